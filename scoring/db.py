"""Opening the database: configuration from the environment, migrations on open, SQLite in WAL mode.

CCHC_DATA_DIR (default data/) holds the database and the evidence files; DATABASE_URL overrides the
database (e.g. postgresql+psycopg://... for a province that runs one server for all its departments).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from scoring.defaults import data_dir
from scoring.errors import STALE_WRITE_MESSAGE, ConflictError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    folder = Path(environ.get("CCHC_DATA_DIR") or data_dir())
    url = environ.get("DATABASE_URL") or f"sqlite:///{(folder / 'cchc.db').resolve()}"
    return Settings(data_dir=folder, database_url=url)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to a migration, the newest by default (creates it on an empty database)."""
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Alembic rebuilds a SQLite table to alter it (copy, drop, rename); with foreign keys enforced the
            # drop would cascade and delete every row that refers to it. The pragma only works outside a
            # transaction, so it is set before the migration's transaction begins.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun transaction; pysqlite issued no BEGIN for a pragma
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"migration left rows that refer to missing rows: {problems[:5]}")
        finally:
            if sqlite:
                connection.rollback()  # nothing pending after a failed migration's rollback; makes room for the pragma
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


class Database:
    """One open database: an engine, its session factory, and the folder for evidence files."""

    def __init__(self, settings: Settings):
        self.settings = settings
        if settings.database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings.database_url)
        upgrade_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed whole on success, rolled back whole on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except StaleDataError:
            # the row's version moved between our read and our write: someone else saved first
            session.rollback()
            raise ConflictError(STALE_WRITE_MESSAGE) from None
        except IntegrityError as err:
            session.rollback()
            if _is_unique_violation(err):
                # two people created the same row (the first score of a criterion) at the same moment
                raise ConflictError(STALE_WRITE_MESSAGE) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


def _is_unique_violation(err: IntegrityError) -> bool:
    original = err.orig
    return getattr(original, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(original)


def open_database(settings: Settings | None = None) -> Database:
    return Database(settings or settings_from_env())
