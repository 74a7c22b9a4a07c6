"""Shared fixtures. Tests never touch the real data/ folder: every database lives in a temporary folder."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from scoring.db import Database, Settings


# CI runs the property tests with a fixed seed, so a submission's result does not depend on luck; on a
# developer's machine they keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI phải chạy kiểm thử với PostgreSQL thật: TEST_DATABASE_URL chưa được đặt (xem scripts/test.sh).")
        pytest.skip("không có PostgreSQL (TEST_DATABASE_URL chưa đặt)")
    engine = create_engine(url)
    with engine.begin() as connection:  # a clean schema per test
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Anything that reads CCHC_DATA_DIR/DATABASE_URL from the environment gets a scratch folder."""
    monkeypatch.setenv("CCHC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CCHC_AUTH", "off")  # page tests run open; the sign-in tests switch it on themselves


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    folder = tmp_path / "data"
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'cchc.db'}"
    else:
        url = _postgres_url()
    database = Database(Settings(data_dir=folder, database_url=url))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    folder = tmp_path / "data"
    database = Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
    yield database
    database.dispose()
