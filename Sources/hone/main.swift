import HoneCLI
HoneCommand.main()
