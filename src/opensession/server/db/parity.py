"""Do the migrations give SQLite and PostgreSQL the same schema, and the one ``schema.py`` says?

Both databases are migrated from nothing, reflected, and described in engine-neutral terms
(tables, columns with their generic type, nullability and primary key, indexes, unique
constraints, foreign keys). Any difference between the two, or between either and the tables
``schema.py`` declares for queries, is reported. ``scripts/check-migration-parity`` runs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text, types

from opensession.server.db.engine import make_engine
from opensession.server.db.migrate import upgrade
from opensession.server.db.schema import metadata

Description = dict[str, Any]


def describe(engine: Engine) -> Description:
    """The schema of ``engine``'s database, in terms that mean the same on every engine."""
    inspector = inspect(engine)
    tables: Description = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        primary = set(inspector.get_pk_constraint(table)["constrained_columns"])
        tables[table] = {
            "columns": {
                column["name"]: (
                    _generic(column["type"]),
                    bool(column["nullable"]) and column["name"] not in primary,
                    column["name"] in primary,
                )
                for column in inspector.get_columns(table)
            },
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
                # PostgreSQL also lists the index behind each unique constraint.
                if not index.get("duplicates_constraint")
            ),
            "unique": sorted(
                tuple(constraint["column_names"])
                for constraint in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    tuple(key["constrained_columns"]),
                    key["referred_table"],
                    tuple(key["referred_columns"]),
                    (key.get("options") or {}).get("ondelete", "").upper(),
                )
                for key in inspector.get_foreign_keys(table)
            ),
        }
    return tables


def _generic(column_type: types.TypeEngine[Any]) -> str:
    generic = column_type.as_generic()
    if isinstance(generic, types.Double | types.Float):
        return "Float"
    if isinstance(generic, types.DateTime):
        return "DateTime"  # SQLite keeps no time zone flag; UtcDateTime handles it
    length = getattr(generic, "length", None)
    return f"{type(generic).__name__}({length})" if length else type(generic).__name__


def differences(left: Description, right: Description, names: tuple[str, str]) -> list[str]:
    """One line per difference between two descriptions."""
    found: list[str] = []
    for table in sorted(set(left) | set(right)):
        if table not in right:
            found.append(f"table {table}: only in {names[0]}")
        elif table not in left:
            found.append(f"table {table}: only in {names[1]}")
        else:
            for part in ("columns", "indexes", "unique", "foreign_keys"):
                if left[table][part] != right[table][part]:
                    found.append(
                        f"table {table} {part}: {names[0]} {left[table][part]} != "
                        f"{names[1]} {right[table][part]}"
                    )
    return found


def drift_from_schema(engine: Engine) -> list[str]:
    """What ``schema.py`` declares that the migrated database lacks or has differently."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [str(change) for change in compare_metadata(context, metadata)]


@contextmanager
def migrated_sqlite(folder: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{folder / f'parity-{uuid.uuid4().hex}.db'}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def migrated_postgres(url: str) -> Iterator[Engine]:
    """A fresh schema on the PostgreSQL at ``url``, migrated, dropped afterwards."""
    schema = f"parity_{uuid.uuid4().hex[:12]}"
    url = make_engine(url).url.render_as_string(hide_password=False)
    admin = create_engine(url)
    with admin.begin() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    engine = create_engine(f"{url}{separator}options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as db:
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def check_parity(postgres_url: str, folder: Path) -> list[str]:
    """Every difference between SQLite and PostgreSQL migrated from nothing, and between either
    and ``schema.py``; empty when they agree."""
    with migrated_sqlite(folder) as sqlite, migrated_postgres(postgres_url) as postgres:
        found = differences(describe(sqlite), describe(postgres), ("sqlite", "postgresql"))
        found += [f"sqlite vs schema.py: {change}" for change in drift_from_schema(sqlite)]
        found += [f"postgresql vs schema.py: {change}" for change in drift_from_schema(postgres)]
    return found
