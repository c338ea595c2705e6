"""The API against its own OpenAPI document: schemathesis fuzzes every route on a live server
and no request may make it answer 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import LiveServer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_openapi_document_names_every_route(live: LiveServer) -> None:
    document = live.client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/api/health",
        "/api/capabilities",
        "/api/auth/register",
        "/api/auth/login",
        "/api/sessions",
    } <= paths


@pytest.mark.slow
def test_no_generated_request_makes_the_server_fail(live: LiveServer, tmp_path: Path) -> None:
    token = live.register()["access_token"]
    done = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{live.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "30",
            "--seed",
            "20261125",
            "--generation-deterministic",
            "--workers",
            "1",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
