"""End to end in a real browser: sign up, issue an API key, upload, read, sign out; the docs'
table of contents; a GitHub file's page; the read-only worker profile.

Screenshots of the pages go to ``test-artifacts/`` (see ``conftest.screenshot``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.server.conftest import LiveServer
from tests.server.web.conftest import screenshot
from tests.server.web.test_share_pages import CODEX_FILE, HAIL_FILE, fake_github

pytestmark = pytest.mark.slow

PASSWORD = "correct horse"


def test_sign_up_issue_a_key_upload_read_and_sign_out(
    start_server: Callable[..., LiveServer], page: Page, corpus: Path
) -> None:
    server = start_server()
    url = server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)

    # Register in the browser.
    page.goto(f"{url}/register")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Nickname").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{url}/")
    account = page.locator("[data-account-menu]")
    expect(account.locator("summary")).to_have_text("[@ada]")

    # Settings: issue an API key, shown once, with the command to connect the CLI.
    page.goto(f"{url}/settings")
    expect(page.get_by_text("You have no API key yet")).to_be_visible()
    page.get_by_role("button", name="Issue an API key").click()
    api_key = page.locator("#api-key").inner_text()
    assert re.fullmatch(r"osk_[0-9a-f]{32}", api_key)
    expect(page.locator("#connect-command")).to_have_text(
        f"opensession account connect --server {url} --api-key {api_key}"
    )
    page.get_by_role("button", name="Copy key").click()
    expect(page.locator(".copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == api_key
    screenshot(page, "settings-api-key")

    # Upload a real session through the API with that key; it shows in the list.
    uploaded = httpx.post(
        f"{url}/api/sessions",
        content=(corpus / HAIL_FILE).read_bytes(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/x-ndjson"},
    )
    assert uploaded.status_code == 201, uploaded.text
    session_id = uploaded.json()["id"]
    page.goto(f"{url}/")
    listed = page.locator(f'a[href="/session/{session_id}"]').first
    expect(listed).to_be_visible()
    listed.click()
    page.wait_for_url(f"{url}/session/{session_id}")
    expect(page.locator("h1")).to_contain_text("Locate where landing page")

    # Upload a tool's own session file in the browser: preview, then confirm.
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Upload").click()
    page.wait_for_url(f"{url}/upload")
    expect(page.locator(".drop-hint")).to_be_visible()  # the drag-and-drop enhancement
    screenshot(page, "upload-form")
    page.set_input_files("#file", corpus / CODEX_FILE)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("h1")).to_contain_text("agentsview__standard_session.jsonl")
    expect(page.locator(".redaction-note")).to_contain_text("Redaction found no secrets")
    expect(page.locator(".timeline article.ev")).to_have_count(2)
    screenshot(page, "upload-preview")
    page.get_by_label("Private: only you can see it").check()
    page.get_by_role("button", name="Upload session").click()
    page.wait_for_url(re.compile(r"/session/[0-9a-f-]{36}$"))
    expect(page.locator("h1")).to_contain_text("Add rate limiting")

    # The theme toggle is remembered.
    page.get_by_role("button", name="Switch to the light theme").click()
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    # The account menu: keyboard first, closed by Escape and by a click elsewhere.
    summary = account.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(account).to_have_attribute("open", "")
    expect(account.get_by_text("ada@example.com")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(account.get_by_role("link", name="Settings")).to_be_focused()
    page.keyboard.press("Escape")
    expect(account).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    summary.click()
    expect(account).to_have_attribute("open", "")
    page.locator("h1").click()
    expect(account).not_to_have_attribute("open", "")

    # Log out from the menu.
    summary.click()
    account.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator("[data-account-menu]")).to_have_count(0)

    # Log in again: a wrong password is shown in the form first.
    page.goto(f"{url}/settings")
    page.wait_for_url(f"{url}/login?next=/settings")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password")
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    screenshot(page, "login")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/settings")
    expect(page.locator("table.keys")).to_contain_text(api_key[:12])


def test_docs_contents_and_a_github_file_page(
    start_server: Callable[..., LiveServer], page: Page, corpus: Path
) -> None:
    with fake_github(corpus) as (raw, _):
        server = start_server(github_raw_base=raw, ingest_allow_private_hosts=True)
        url = server.url

        page.goto(f"{url}/docs")
        site = page.get_by_role("navigation", name="Site")
        expect(site.get_by_role("link", name="Docs")).to_have_attribute("aria-current", "page")
        toc = page.get_by_role("navigation", name="Contents")
        toc.get_by_role("link", name="2. CLI").click()
        expect(page).to_have_url(f"{url}/docs#cli")
        expect(page.locator("#cli")).to_be_in_viewport()
        expect(toc).to_be_in_viewport()  # sticky beside the chapters
        screenshot(page, "docs")

        page.goto(f"{url}/gh/corpus/sessions/main/{HAIL_FILE}")
        banner = page.get_by_role("region", name="Source")
        expect(banner.get_by_role("link", name="corpus/sessions")).to_have_attribute(
            "href", "https://github.com/corpus/sessions"
        )
        expect(banner.get_by_role("link", name=HAIL_FILE)).to_have_attribute(
            "href", f"https://github.com/corpus/sessions/blob/main/{HAIL_FILE}"
        )
        expect(banner).to_contain_text("at main")
        expect(page.locator("h1")).to_contain_text("Locate where landing page")
        expect(page.locator(".timeline article.ev").first).to_be_visible()
        screenshot(page, "gh")

        page.goto(f"{url}/gh/corpus/sessions/main/SOURCES.md")
        expect(page.get_by_role("alert")).to_contain_text("Neither HAIL nor a session file")
        page.get_by_label("Read the file as").select_option("codex")
        page.get_by_role("button", name="Preview with this parser").click()
        page.wait_for_url(re.compile(r"\?parser=codex$"))
        expect(page.get_by_role("alert")).to_contain_text("Parser 'codex' failed")
        screenshot(page, "gh-parser-picker")


def test_the_worker_profile_is_read_only(
    start_server: Callable[..., LiveServer], page: Page
) -> None:
    server = start_server(profile="worker")
    url = server.url
    page.goto(f"{url}/upload")
    expect(page.get_by_role("heading", name="Uploading is off here")).to_be_visible()
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Site").get_by_role("link", name="Upload")
    ).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Read-only deployment")
    screenshot(page, "worker-upload")

    page.goto(f"{url}/gh/corpus/sessions/main/{CODEX_FILE}")
    expect(page.get_by_role("heading", name="GitHub previews are unavailable here")).to_be_visible()
    expect(page.locator(".timeline")).to_have_count(0)
