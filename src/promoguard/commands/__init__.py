"""One module per CLI command; ``promoguard.cli`` assembles them into one Typer app."""
