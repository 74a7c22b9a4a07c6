"""Opening the database: configuration from the environment, migrations on open, SQLite in WAL mode.

CCHC_DATA_DIR (default data/) holds the database and the evidence files; DATABASE_URL overrides the
database (e.g. postgresql+psycopg://... for a province that runs one server for all its departments).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from scoring.defaults import data_dir
from scoring.errors import STALE_WRITE_MESSAGE, ConflictError, raise_as_storage_error
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import EvidenceRecord
from scoring.store.revisions import (
    Scope,
    bump_revision,
    data_revision,
    move_on,
    read_revisions,
    scopes_written,
    track_writes,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a write waits for another process that holds SQLite's write lock before it is told the
# database is busy (a sentence, nothing saved): long enough for any save of ours, short enough to wait for.
SQLITE_BUSY_TIMEOUT_SECONDS = 15

# Who is signed in where (migration 0007): one row per browser session, holding only the digest of the
# token its cookie carries. Bookkeeping of this installation like the data revisions (scoring.store.revisions),
# not data: a backup neither carries nor restores it, and signing in or being seen does not move a revision.
SIGN_IN_SESSIONS = Table(
    "sign_in_session", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("account_id", Integer, nullable=False),  # account.id; the migration makes it cascade on delete
    Column("created_at", DateTime, nullable=False),  # naive UTC, as every stored time
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("ended_why", String(40)),  # scoring.access.sessions.Ended
)


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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

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
        try:
            if settings.database_url.startswith("sqlite"):
                _private_sqlite_file(settings)
            self.engine = make_engine(settings.database_url)
            upgrade_schema(self.engine)
        except (DBAPIError, OSError) as err:
            raise_as_storage_error(err)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        track_writes(self._sessions)
        self._thread = threading.local()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed whole on success, rolled back whole on any error.

        A unit that changed rows also moves on, in the same transaction just before it commits, the revisions
        of the department-years it changed (scoring.store.revisions) and then the data revision (last, so that
        counter's row lock, which every writer takes, is held for the shortest time on PostgreSQL).
        """
        session = self._sessions()
        try:
            yield session
            session.flush()
            scopes = scopes_written(session)
            written = None
            if scopes is not None:
                connection = session.connection()
                written = move_on(connection, scopes)
                bump_revision(connection)
            session.commit()
            if written is not None:
                self._thread.written = written
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
        except (DBAPIError, OSError) as err:
            # disk full, read-only folder, database busy or gone: say which, nothing was saved. Not only
            # OperationalError: PostgreSQL's read-only transaction (25006) reaches us as an InternalError
            session.rollback()
            raise_as_storage_error(err)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def revision(self) -> int:
        """The data revision now: it changes whenever any write is committed, by anyone, in any process.

        Equal revisions mean equal data, so whatever was computed from the data can be kept until it moves.
        """
        try:
            with self.engine.connect() as connection:
                return data_revision(connection)
        except DBAPIError as err:
            raise_as_storage_error(err)

    def revisions(self, scopes: tuple[Scope, ...]) -> dict[Scope, int]:
        """The revisions of these department-years (and SHARED) now, in one query: equal revisions mean their data
        is equal (scoring.store.revisions.scopes_of_year says what one department's year depends on)."""
        try:
            with self.engine.connect() as connection:
                return read_revisions(connection, scopes)
        except DBAPIError as err:
            raise_as_storage_error(err)

    def last_write_revisions(self) -> dict[Scope, int] | None:
        """The revisions this thread's latest committed write moved, by department-year (or SHARED), and where it
        left them (None before any write; empty for a write of the audit trail alone).

        Each moves by exactly one per committed write that changed it, so a reader that held a department-year
        at revision r and then sees its own write leave it at r + 1 knows that nobody else wrote it in between.
        """
        return getattr(self._thread, "written", None)

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


def _private_sqlite_file(settings: Settings) -> None:
    """The data folder exists and the database file is readable by its owner only (it holds password
    hashes); SQLite gives the -wal and -shm files the database file's permissions."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # made here: owner only, like what it holds
    path = sqlite_path(settings.database_url)
    if path is None:
        return
    if not path.exists() and "mode=ro" not in settings.database_url:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.geteuid():
            file.chmod(0o600)


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL; None for an in-memory or non-SQLite database."""
    if not url.startswith("sqlite:///"):
        return None
    name = url.removeprefix("sqlite:///").split("?", 1)[0].removeprefix("file:")  # also SQLite's URI form
    return Path(name) if name and name != ":memory:" else None


def _is_unique_violation(err: IntegrityError) -> bool:
    original = err.orig
    return getattr(original, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(original)


def open_database(settings: Settings | None = None) -> Database:
    """The database the app or the command line works on; what uploads killed half-way left in the evidence
    folder (a temporary file, a file whose record was never saved) is removed on the way."""
    db = Database(settings or settings_from_env())
    EvidenceStore(db.settings.evidence_dir).sweep_abandoned_uploads(referenced=lambda key: evidence_file_in_use(db, key))
    return db


def evidence_file_in_use(db: Database, key: str) -> bool:
    """Whether any evidence record refers to the stored file `key` (the evidence store keeps a file while one does)."""
    with db.session() as session:
        return session.scalar(select(EvidenceRecord.id).where(EvidenceRecord.file_key == key).limit(1)) is not None
