"""The server's database: tables (SQLAlchemy Core), engines, and Alembic migrations."""
