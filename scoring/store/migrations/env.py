"""Alembic environment: run by scoring.store.db on open (and by `alembic` for developers writing migrations)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from scoring.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by scoring.store.db: migrate inside the caller's connection
        _migrate(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _migrate(connection)


def _migrate(connection) -> None:
    # batch mode: SQLite cannot ALTER most things in place, Alembic rebuilds the table instead
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
