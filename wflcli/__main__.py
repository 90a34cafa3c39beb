from wflcli.cli.main import main

main()
