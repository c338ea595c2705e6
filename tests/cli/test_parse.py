from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from opensession.hail.jsonl import read_session


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    if home is not None:
        env.update(HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
        for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
            env.pop(variable, None)
    executable = Path(sys.executable).with_name("opensession")
    return subprocess.run([str(executable), *args], capture_output=True, env=env, check=False)


def test_parse_writes_hail_jsonl_to_stdout(corpus: Path) -> None:
    result = run("parse", str(corpus / "codex/opensession__rollout-desktop.jsonl"))
    assert result.returncode == 0, result.stderr
    session = read_session(io.BytesIO(result.stdout), strict=True)
    assert session.agent.tool == "codex"
    assert session.events


def test_parse_markdown_and_json_formats(corpus: Path) -> None:
    source = str(corpus / "gemini/agentsview__tool_calls.json")
    markdown = run("parse", source, "--format", "md").stdout.decode()
    assert markdown.startswith("# ")
    assert "**Tool**: gemini" in markdown
    document = orjson.loads(run("parse", source, "--format", "json").stdout)
    assert document["agent"]["tool"] == "gemini"
    assert document["version"] == "hail-1.0.0"


def test_parse_to_a_folder_writes_sub_agent_sessions_too(corpus: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(corpus / "claude-code/spotter", project)
    main = next(p for p in project.glob("*.jsonl") if (project / p.stem / "subagents").is_dir())
    out = tmp_path / "out"
    out.mkdir()
    result = run("parse", str(main), "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = [read_session(path) for path in sorted(out.glob("*.hail.jsonl"))]
    agents = len(list((project / main.stem / "subagents").glob("agent-*.jsonl")))
    assert len(written) == 1 + agents
    assert sum(not s.context.is_auxiliary for s in written) == 1


def test_parse_reports_unsupported_and_missing_files_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("just some notes\n")
    result = run("parse", str(other))
    assert result.returncode == 1
    message = result.stderr.decode().strip()
    assert message == f"Error: {other}: not a session file of any supported tool " + (
        "(claude-code, codex, cursor, gemini, opencode, amp, cline, goose, aider)"
    )
    missing = run("parse", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1
    assert missing.stderr.decode().strip().endswith("nope.jsonl: no such file or directory")


def test_parse_prints_warnings_for_a_truncated_log_and_keeps_the_rest(
    corpus: Path, tmp_path: Path
) -> None:
    data = (corpus / "claude-code/spotter/short.jsonl").read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) - 25])
    result = run("parse", str(cut), "--tool", "claude-code")
    assert result.returncode == 0
    assert b"truncated last line" in result.stderr
    assert read_session(io.BytesIO(result.stdout)).events


def test_discover_json_counts_sessions_per_tool(corpus: Path, tmp_path: Path) -> None:
    day = tmp_path / ".codex/sessions/2026/02/23"
    day.mkdir(parents=True)
    for rollout in (corpus / "codex/localpush").glob("rollout-*.jsonl"):
        shutil.copy(rollout, day / rollout.name)
    result = run("discover", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    tools = {entry["tool"]: entry for entry in orjson.loads(result.stdout)["tools"]}
    assert tools["codex"]["count"] == 3
    assert tools["claude-code"]["count"] == 0
    assert tools["codex"]["locations"][0]["exists"] is True


def test_discover_repo_keeps_only_sessions_started_inside_it(corpus: Path, tmp_path: Path) -> None:
    repo = tmp_path / "work/repo"
    (repo / "src").mkdir(parents=True)
    day = tmp_path / ".codex/sessions/2026/02/16"
    day.mkdir(parents=True)
    source = (corpus / "codex/opensession__rollout-desktop.jsonl").read_bytes()
    first, rest = source.split(b"\n", 1)
    for name, cwd in (("inside", repo / "src"), ("outside", tmp_path / "work/other")):
        meta = orjson.loads(first)
        meta["payload"]["cwd"] = str(cwd)
        meta["payload"]["id"] = name
        (day / f"rollout-2026-02-16T10-00-00-{name}.jsonl").write_bytes(
            orjson.dumps(meta) + b"\n" + rest
        )
    result = run("discover", "--json", "--repo", str(repo), home=tmp_path)
    assert result.returncode == 0, result.stderr
    tools = {entry["tool"]: entry for entry in orjson.loads(result.stdout)["tools"]}
    assert [Path(p).name for p in tools["codex"]["sources"]] == [
        "rollout-2026-02-16T10-00-00-inside.jsonl"
    ]


def test_discover_shows_sources_the_index_could_not_read(tmp_path: Path) -> None:
    project = tmp_path / ".claude/projects/-work-app"
    project.mkdir(parents=True)
    broken = project / "0b9e4c1e-5a55-4c5e-9a3e-000000000001.jsonl"
    broken.write_text("this log was overwritten with garbage\n")
    assert run("index", home=tmp_path).returncode == 0
    listing = run("discover", home=tmp_path)
    assert listing.returncode == 0, listing.stderr
    text = listing.stdout.decode()
    assert "1 source(s) could not be read when last indexed:" in text
    assert f"  {broken}: " in text
    report = orjson.loads(run("discover", "--json", home=tmp_path).stdout)
    tools = {entry["tool"]: entry for entry in report["tools"]}
    assert [entry["path"] for entry in tools["claude-code"]["failed"]] == [str(broken)]
