"""The FastAPI application: one factory for both profiles (``server`` and ``worker``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from opensession import __version__
from opensession.server.blobs import BlobStore
from opensession.server.context import ServerContext
from opensession.server.db.engine import make_engine
from opensession.server.db.migrate import upgrade
from opensession.server.errors import install_error_handlers
from opensession.server.routes import auth, docs, ingest, meta, sessions
from opensession.server.settings import ServerSettings
from opensession.server.web import account_pages, list_pages, session_page, share_pages
from opensession.server.web.auth import web_user_middleware
from opensession.server.web.templating import static_dir


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The app for ``settings`` (the environment's by default), its database migrated."""
    settings = settings or ServerSettings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    app = FastAPI(
        title="opensession",
        version=__version__,
        description="A self-hosted hub for AI coding sessions (HAIL).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = ServerContext(settings, engine, BlobStore(settings.blob_dir))
    install_error_handlers(app)
    for router in (meta.router, auth.router, sessions.router, ingest.router, docs.router):
        app.include_router(router)
    for page_router in (
        list_pages.router,
        session_page.router,
        account_pages.router,
        share_pages.router,
    ):
        app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=static_dir(app.state.context)), name="static")
    app.middleware("http")(web_user_middleware)
    return app
