from kvserver.cli import main

main()
