"""Identity resolution (issue 15): name and handle forms, the linkage model, its candidates."""
