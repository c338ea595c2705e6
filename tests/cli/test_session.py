"""``opensession session handoff`` end to end: the installed command on real sessions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.cli.conftest import run
from tests.localdb.conftest import CODEX_DAY, SPOTTER_PROJECT, copy_tree

SPOTTER_MAIN = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
"""The newest main Claude Code session of the corpus's spotter project."""


@pytest.fixture
def home(corpus: Path, tmp_path: Path) -> Path:
    """The corpus's Claude Code and Codex sessions where the tools keep them (not indexed yet:
    the handoff indexes before it resolves HEAD)."""
    folder = tmp_path / "home"
    copy_tree(corpus / "claude-code/spotter", folder / SPOTTER_PROJECT)
    copy_tree(corpus / "codex/localpush", folder / CODEX_DAY)
    return folder


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    return folder


def test_a_claude_session_with_a_validation_report(home: Path) -> None:
    result = run(home, "session", "handoff", "--claude", "HEAD", "--format", "json", "--validate")
    assert result.returncode == 0, result.stderr
    [summary] = orjson.loads(result.stdout)
    assert summary["source_session_id"] == SPOTTER_MAIN
    assert summary["objective"].startswith("Work on bead spotter-4te")
    assert summary["validation"]["session_id"] == SPOTTER_MAIN
    assert summary["validation"]["passed"] is True
    assert summary["execution_contract"]["ordered_steps"]
    evidence = {item["id"] for item in summary["evidence"]}
    for step in summary["execution_contract"]["ordered_steps"]:
        assert set(step["evidence_refs"]) <= evidence
    assert f"handoff validation {SPOTTER_MAIN}: passed" in result.stderr


def test_last_n_and_head_n_select_the_same_sessions_oldest_first(home: Path) -> None:
    by_count = run(home, "session", "handoff", "--last", "3", "--format", "json")
    by_head = run(home, "session", "handoff", "--last", "HEAD~3", "--format", "json")
    assert by_count.returncode == 0, by_count.stderr
    summaries = orjson.loads(by_count.stdout)
    assert summaries == orjson.loads(by_head.stdout)
    assert len(summaries) == 3
    starts = [summary["created_at"] for summary in summaries]
    assert starts == sorted(starts)
    newest = run(home, "session", "handoff", "--last", "--format", "json")
    assert orjson.loads(newest.stdout) == summaries[-1:]


def test_per_tool_references(home: Path) -> None:
    codex = run(home, "session", "handoff", "--tool", "codex HEAD", "--format", "json")
    assert codex.returncode == 0, codex.stderr
    assert [s["tool"] for s in orjson.loads(codex.stdout)] == ["codex"]
    newest = run(home, "session", "handoff", "--last", "--format", "json")
    assert orjson.loads(newest.stdout) == orjson.loads(codex.stdout)
    claude = run(home, "session", "handoff", "--claude", "HEAD~1", "--format", "json")
    assert [s["tool"] for s in orjson.loads(claude.stdout)] == ["claude-code"]
    assert orjson.loads(claude.stdout)[0]["source_session_id"] != SPOTTER_MAIN


def test_markdown_is_the_default(home: Path) -> None:
    result = run(home, "session", "handoff", "--claude", "HEAD")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Handoff\n")
    assert "### Ordered steps" in result.stdout
    assert "### Files modified" in result.stdout


def test_stream_envelopes_and_a_diagnostic_for_a_bad_reference(home: Path) -> None:
    result = run(home, "session", "handoff", "--claude", "HEAD", "--format", "stream", "--validate")
    assert result.returncode == 0, result.stderr
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == ["session_summary", "validation_report"]
    assert lines[0]["version"] == "0.1"
    assert lines[0]["data"]["source_session_id"] == SPOTTER_MAIN
    assert "tokens" in lines[0]["@message"]

    failed = run(home, "session", "handoff", "--tool", "gemini HEAD", "--format", "stream")
    assert failed.returncode == 1
    [diagnostic] = [orjson.loads(line) for line in failed.stdout.splitlines()]
    assert diagnostic["type"] == "diagnostic"
    assert diagnostic["@level"] == "error"
    assert "no gemini sessions" in diagnostic["@message"]


def test_strict_fails_only_on_error_findings(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "session-empty.json"
    empty.write_text(
        '{"sessionId": "empty-1", "projectHash": "x", "startTime": "2026-01-01T00:00:00Z", '
        '"lastUpdated": "2026-01-01T00:00:00Z", "messages": []}'
    )
    soft = run(home, "session", "handoff", str(empty), "--validate", "--format", "json")
    assert soft.returncode == 0
    assert "session_empty" in soft.stderr
    strict = run(home, "session", "handoff", str(empty), "--validate", "--strict")
    assert strict.returncode == 1
    assert "handoff validation failed: 1 error finding(s)" in strict.stderr

    warnings_only = run(home, "session", "handoff", "--last", "--validate", "--strict")
    assert warnings_only.returncode == 0, warnings_only.stderr


def test_bad_selections_are_one_line_errors(home: Path) -> None:
    cases = {
        ("--last", "0"): "--last takes a count or HEAD~N",
        ("--tool", "vim HEAD"): "unknown tool 'vim'",
        ("nothing-here.jsonl",): "no such file",
        (): "name the sessions to hand off",
    }
    for arguments, message in cases.items():
        result = run(home, "session", "handoff", *arguments)
        assert result.returncode == 1, arguments
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_populate_pipes_the_redacted_handoff_to_the_provider(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "claude-call.json"
    fake = tmp_path / "bin" / "claude"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'stdin': sys.stdin.read()}}, open({str(log)!r}, 'w'))\n"
    )
    fake.chmod(0o755)
    secret = "sk-ant-api03-" + "x" * 40
    session_file = tmp_path / "secret.jsonl"
    session_file.write_text(
        orjson.dumps(
            {
                "type": "user",
                "uuid": "u1",
                "sessionId": "secret-1",
                "timestamp": "2026-03-01T10:00:00Z",
                "message": {"role": "user", "content": f"deploy with ANTHROPIC_API_KEY={secret}"},
            }
        ).decode()
        + "\n"
    )
    result = run(
        home,
        "session",
        "handoff",
        str(session_file),
        "--populate",
        "claude:opus-4.6",
        path=str(fake.parent),
    )
    assert result.returncode == 0, result.stderr
    call = orjson.loads(log.read_bytes())
    assert call["argv"][0] == "-c"
    assert "opus-4.6" in call["argv"][1]
    handoff = orjson.loads(call["stdin"])
    assert handoff["source_session_ids"] == ["secret-1"]
    assert "deploy with ANTHROPIC_API_KEY=" in handoff["summaries"][0]["objective"]
    assert secret not in call["stdin"]

    missing = run(home, "session", "handoff", str(session_file), "--populate", "amp", path="")
    assert missing.returncode == 1
    assert "amp is not installed" in missing.stderr


def test_artifacts_from_save_to_render(home: Path, repo: Path) -> None:
    sessions = [
        home / SPOTTER_PROJECT / f"{SPOTTER_MAIN}.jsonl",
        home / SPOTTER_PROJECT / "short.jsonl",
    ]
    saved = run(home, "session", "handoff", "save", *map(str, sessions), "--json", cwd=repo)
    assert saved.returncode == 0, saved.stderr
    artifact = orjson.loads(saved.stdout)
    artifact_id = artifact["artifact_id"]
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/opensession") == artifact["ref"]
    assert git(repo, "status", "--porcelain") == ""

    listed = run(home, "session", "handoff", "artifact", "list", "--json", cwd=repo)
    assert [(a["artifact_id"], a["state"]) for a in orjson.loads(listed.stdout)] == [
        (artifact_id, "fresh")
    ]
    shown = orjson.loads(
        run(home, "session", "handoff", "artifact", "show", artifact["ref"], cwd=repo).stdout
    )
    assert shown["handoff"]["merge_policy"] == "time_asc"
    assert [s["state"] for s in shown["sources"]] == ["fresh", "fresh"]

    with sessions[0].open("a") as log:
        first = orjson.loads(sessions[0].read_text().splitlines()[-1])
        log.write(
            orjson.dumps(
                {
                    "type": "user",
                    "uuid": "appended-1",
                    "sessionId": first["sessionId"],
                    "timestamp": "2026-12-01T00:00:00Z",
                    "message": {"role": "user", "content": "one more thing"},
                }
            ).decode()
            + "\n"
        )
    listed = run(home, "session", "handoff", "artifact", "list", cwd=repo)
    assert f"{artifact_id}  stale" in listed.stdout
    refreshed = run(home, "session", "handoff", "artifact", "refresh", artifact_id, cwd=repo)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "version 2" in refreshed.stdout
    assert git(repo, "rev-list", "--count", artifact["ref"]) == "2"

    rendered = run(
        home,
        "session",
        "handoff",
        "artifact",
        "render-md",
        artifact_id,
        "-o",
        "HANDOFF.md",
        cwd=repo,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert (repo / "HANDOFF.md").read_text().startswith("# Handoff\n")
    assert git(repo, "status", "--porcelain") == "?? HANDOFF.md"


def test_artifacts_outside_a_git_repository(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    result = run(home, "session", "handoff", "artifact", "list", cwd=outside)
    assert result.returncode == 1
    assert "not a git repository" in result.stderr
    missing = run(
        home, "session", "handoff", "artifact", "show", "20990101T000000Z-deadbeef", cwd=outside
    )
    assert missing.returncode == 1
