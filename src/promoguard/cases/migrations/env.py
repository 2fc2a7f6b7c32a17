"""Alembic environment for the case database.

It runs on the connection handed over by :func:`promoguard.cases.db.migrate` (``config.attributes
["connection"]``), so migrations need no ``alembic.ini`` and work from an installed package.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from promoguard.cases.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
