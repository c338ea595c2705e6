from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from opensession.localdb.indexer import index_sources
from opensession.localdb.refs import (
    SessionRefError,
    load_session,
    parse_tool_ref,
    resolve_session_ref,
)
from opensession.localdb.store import LocalIndex
from tests.localdb.conftest import SPOTTER_MAIN, sources, write_claude_log

CODEX_NEWEST = "019c8a70-dda7-7f33-98ea-f30553347322"


@pytest.fixture
def corpus_index(index: LocalIndex, corpus_home: Path) -> LocalIndex:
    index_sources(index, sources(corpus_home))
    return index


def test_head_counts_main_sessions_newest_first(corpus_index: LocalIndex, tmp_path: Path) -> None:
    newest_first = [row.id for row in corpus_index.list_sessions()]
    for back, expected in enumerate(newest_first):
        ref = "HEAD" if back == 0 else f"HEAD~{back}"
        assert resolve_session_ref(corpus_index, ref, cwd=tmp_path).session_id == expected
    with pytest.raises(SessionRefError, match=r"no session HEAD~8: only 8 sessions"):
        resolve_session_ref(corpus_index, "HEAD~8", cwd=tmp_path)


def test_per_tool_head(corpus_index: LocalIndex, tmp_path: Path) -> None:
    tool, ref = parse_tool_ref("codex HEAD")
    resolved = resolve_session_ref(corpus_index, ref, tool=tool, cwd=tmp_path)
    assert (resolved.session_id, resolved.tool) == (CODEX_NEWEST, "codex")
    claude = resolve_session_ref(corpus_index, "HEAD~1", tool="claude-code", cwd=tmp_path)
    assert claude.session_id == "258c7280-ae70-4798-800f-63464d01a85d"
    assert parse_tool_ref("claude HEAD~2") == ("claude-code", "HEAD~2")
    with pytest.raises(SessionRefError, match="unknown tool 'kodex'; supported tools: claude-code"):
        parse_tool_ref("kodex HEAD")


def test_id_prefix_unique_ambiguous_and_wrong_tool(corpus_index: LocalIndex) -> None:
    assert resolve_session_ref(corpus_index, "ae4a").session_id == SPOTTER_MAIN
    with pytest.raises(SessionRefError, match="'019c8a' matches several sessions"):
        resolve_session_ref(corpus_index, "019c8a")
    with pytest.raises(SessionRefError, match="is a claude-code session, not codex"):
        resolve_session_ref(corpus_index, "ae4a", tool="codex")
    with pytest.raises(SessionRefError, match="run 'opensession index'"):
        resolve_session_ref(corpus_index, "zzz")


def test_sub_agent_id_loads_from_its_parents_log(corpus_index: LocalIndex) -> None:
    session = load_session(resolve_session_ref(corpus_index, "aac57f5"))
    assert session.session_id == "aac57f5"
    assert session.context.is_auxiliary


def test_file_path_is_parsed_without_the_index(
    index: LocalIndex, corpus_home: Path, corpus: Path
) -> None:
    path = corpus / "claude-code/spotter" / f"{SPOTTER_MAIN}.jsonl"
    resolved = resolve_session_ref(index, str(path))
    assert (resolved.session_id, resolved.tool) == (SPOTTER_MAIN, "claude-code")
    assert load_session(resolved).context.title
    with pytest.raises(SessionRefError, match="no such file"):
        resolve_session_ref(index, str(path) + ".missing")


def test_head_is_scoped_to_the_git_repo_of_cwd(index: LocalIndex, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    home = tmp_path / "home"
    project = home / ".claude/projects/-p"
    write_claude_log(
        project / "a.jsonl", "in-old", prompt="a", cwd=str(repo), start="2026-03-01T10:00"
    )
    write_claude_log(
        project / "b.jsonl", "in-new", prompt="b", cwd=str(repo / "src"), start="2026-03-02T10:00"
    )
    write_claude_log(
        project / "c.jsonl", "out", prompt="c", cwd=str(tmp_path), start="2026-03-03T10:00"
    )
    index_sources(index, sources(home))

    assert resolve_session_ref(index, "HEAD", cwd=repo / "src").session_id == "in-new"
    assert resolve_session_ref(index, "HEAD~1", cwd=repo).session_id == "in-old"
    assert resolve_session_ref(index, "HEAD", cwd=tmp_path).session_id == "out"
    with pytest.raises(SessionRefError, match=f"only 2 sessions in {repo} "):
        resolve_session_ref(index, "HEAD~2", cwd=repo)
