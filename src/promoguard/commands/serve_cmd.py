"""`promoguard serve`: the web application (pages and REST API) on the case database."""

from __future__ import annotations

from pathlib import Path

import typer

from promoguard.commands._common import console, user_errors


@user_errors
def serve(
    db: str | None = typer.Option(
        None, "--db", help="Case database URL (else $PROMOGUARD_DB, else sqlite:///promoguard.db)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    store: Path | None = typer.Option(
        None,
        "--store",
        help="The scan store (DuckDB): listing counts for the scorecards, and verification.",
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure (behind an HTTPS proxy)."
    ),
) -> None:
    """Serve the web application: log in with a user made by `promoguard users add`."""
    import uvicorn

    from promoguard.web import rules
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    rules.rule_pages()  # load the rule registry now, not on the first visitor's page

    data = WebData(db, store=store)
    if not data.users():
        console.print(
            "no users yet: add one with `promoguard users add NAME --role admin --password-stdin`"
        )
    app = create_app(data, secure_cookies=secure_cookies)
    console.print(f"PromoGuard on http://{host}:{port}/ (case database {data.db.url})")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
