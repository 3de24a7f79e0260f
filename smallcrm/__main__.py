from smallcrm.cli.main import run

run()
