from karmabank.cli import main

main()
