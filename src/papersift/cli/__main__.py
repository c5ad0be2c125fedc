from papersift.cli.main import main

main()
