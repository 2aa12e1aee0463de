"""Alembic environment: batch mode for SQLite, simlab's naming conventions, PG type widths.

simlab calls Alembic programmatically (simlab.db.migrate) and passes an open
connection in ``config.attributes["connection"]``; plain ``alembic`` on the
command line opens one from ``sqlalchemy.url`` instead.
"""

from alembic import context

import simlab.postgres  # noqa: F401  (SQLite-width integer and float types on PostgreSQL)
from simlab.db import make_engine
from simlab.schema import metadata

config = context.config


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
