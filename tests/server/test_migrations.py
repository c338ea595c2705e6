from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from opensession.server.db.migrate import upgrade
from opensession.server.db.parity import (
    check_parity,
    describe,
    differences,
    migrated_postgres,
    migrated_sqlite,
)
from opensession.server.db.schema import users
from tests.server.conftest import POSTGRES_URL

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check-migration-parity"
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="OPENSESSION_TEST_POSTGRES_URL is unset: no PostgreSQL to compare"
)


@needs_postgres
def test_sqlite_and_postgresql_get_the_same_schema(tmp_path: Path) -> None:
    assert POSTGRES_URL
    assert check_parity(POSTGRES_URL, tmp_path) == []


@needs_postgres
def test_a_difference_between_the_engines_is_reported(tmp_path: Path) -> None:
    assert POSTGRES_URL
    with migrated_sqlite(tmp_path) as sqlite, migrated_postgres(POSTGRES_URL) as postgres:
        with sqlite.begin() as db:
            db.execute(text("CREATE INDEX ix_users_avatar_url ON users (avatar_url)"))
        found = differences(describe(sqlite), describe(postgres), ("sqlite", "postgresql"))
    assert len(found) == 1
    assert found[0].startswith("table users indexes: sqlite")
    assert "ix_users_avatar_url" in found[0]


@needs_postgres
def test_the_script_exits_0_when_the_schemas_agree() -> None:
    assert POSTGRES_URL
    done = subprocess.run(
        [sys.executable, str(SCRIPT), POSTGRES_URL], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "migrations agree" in done.stderr


def test_the_script_needs_a_postgresql_url() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "give a PostgreSQL URL" in done.stderr


def test_migrating_again_keeps_the_data(tmp_path: Path) -> None:
    with migrated_sqlite(tmp_path) as engine:
        with engine.begin() as db:
            db.execute(
                users.insert().values(
                    id="u1",
                    email="a@example.com",
                    nickname="ada",
                    password_hash="x",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
        upgrade(engine)
        with engine.connect() as db:
            row = db.execute(select(users)).one()
    assert row.nickname == "ada"
    assert row.created_at == datetime(2026, 1, 1, tzinfo=UTC)
