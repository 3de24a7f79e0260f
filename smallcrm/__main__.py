from smallcrm.cli.main import console

console()
