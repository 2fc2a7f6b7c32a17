from promoguard.cli import main

main()
