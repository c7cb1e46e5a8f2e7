from karmabank.cli import run

run()
