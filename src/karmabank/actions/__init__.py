"""Use cases. Each public function owns its transaction(s) and takes keyword arguments."""
