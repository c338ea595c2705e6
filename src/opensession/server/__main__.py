"""``opensession-server`` / ``python -m opensession.server``: serve the hub with uvicorn."""

from __future__ import annotations

import gc
import sys

from opensession.server.settings import ServerSettings, SettingsError


def main() -> None:
    import uvicorn

    from opensession.server.app import create_app

    try:
        settings = ServerSettings.from_env()
    except SettingsError as exc:
        sys.exit(f"opensession-server: {exc}")
    app = create_app(settings)
    # Everything loaded so far lives as long as the process: keep the collector from rescanning
    # it on every collection (measured: ~15% of a large session page's time).
    gc.freeze()
    where = settings.database_url and settings.sqlalchemy_url.split("@")[-1]
    print(
        f"opensession-server {settings.profile} profile on http://{settings.host}:{settings.port}"
    )
    print(f"  data: {settings.data_dir.absolute()} (database: {where or 'SQLite in the data dir'})")
    if not settings.auth_enabled:
        print("  auth off (set JWT_SECRET to enable accounts and uploads)")
    sys.stdout.flush()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
