from gongkai.flows.cli import main

main()
