"""The opensession server: a self-hosted session hub (FastAPI), on SQLite or PostgreSQL."""
