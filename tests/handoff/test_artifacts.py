from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from opensession.gitnative import GitRepo
from opensession.hail.model import Session
from opensession.handoff.artifacts import (
    ARTIFACTS_PREFIX,
    ArtifactError,
    freshness,
    list_artifacts,
    load_source,
    overall,
    read_artifact,
    refresh_artifact,
    save_artifact,
    source_of,
)
from opensession.handoff.builder import build_summary
from opensession.parsers.registry import parse_path
from tests.gitnative.conftest import checkout_state, git
from tests.localdb.conftest import write_claude_log


def claude_session(folder: Path, name: str, prompt: str, start: str) -> tuple[Session, Path]:
    path = write_claude_log(
        folder / f"{name}.jsonl", name, prompt=prompt, start=start, command="pytest -q"
    )
    return parse_path(path).session, path


@pytest.fixture
def two_sessions(tmp_path: Path) -> list[tuple[Session, Path]]:
    logs = tmp_path / "logs"
    return [
        claude_session(logs, "bbbb2222", "Add the retry logic", "2026-03-02T09:00"),
        claude_session(logs, "aaaa1111", "Fix the login bug", "2026-03-01T10:00"),
    ]


def save(repo: GitRepo, sessions: list[tuple[Session, Path]], payload_format: str = "json"):
    return save_artifact(
        repo,
        [build_summary(session) for session, _ in sessions],
        [source_of(session, str(path)) for session, path in sessions],
        payload_format,  # type: ignore[arg-type]
        now=datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("payload_format", ["json", "jsonl"])
def test_saved_artifact_is_a_ref_git_can_read(
    repo: GitRepo, work_repo: Path, two_sessions: list[tuple[Session, Path]], payload_format: str
) -> None:
    artifact = save(repo, two_sessions, payload_format)

    assert artifact.artifact_id.startswith("20260303T120000Z-")
    refs = git(work_repo, "for-each-ref", "--format=%(refname)", "refs/opensession")
    assert refs == f"{ARTIFACTS_PREFIX}{artifact.artifact_id}"
    files = git(work_repo, "ls-tree", "--name-only", artifact.ref)
    assert files.splitlines() == [f"handoff.{payload_format}", "manifest.json"]
    manifest = orjson.loads(git(work_repo, "cat-file", "blob", f"{artifact.ref}:manifest.json"))
    assert manifest["merge_policy"] == "time_asc"
    assert manifest["payload_format"] == payload_format
    # Oldest session first, whatever order they were named in.
    assert [s["session_id"] for s in manifest["sources"]] == ["aaaa1111", "bbbb2222"]
    assert all(s["content_hash"].startswith("sha256:") for s in manifest["sources"])
    assert artifact.handoff.source_session_ids == ["aaaa1111", "bbbb2222"]
    objectives = [s.objective for s in artifact.handoff.summaries]
    assert objectives == ["Fix the login bug", "Add the retry logic"]


def test_saving_leaves_the_checkout_alone(
    repo: GitRepo, work_repo: Path, two_sessions: list[tuple[Session, Path]]
) -> None:
    before = checkout_state(work_repo)
    save(repo, two_sessions)
    assert checkout_state(work_repo) == before


def test_a_changed_source_session_makes_the_artifact_stale_and_refresh_keeps_history(
    repo: GitRepo, work_repo: Path, two_sessions: list[tuple[Session, Path]]
) -> None:
    artifact = save(repo, two_sessions)
    assert overall(freshness(artifact, load_source)) == "fresh"

    path = two_sessions[1][1]
    write_claude_log(
        path, "aaaa1111", prompt="Fix the login bug, and the logout one", start="2026-03-01T10:00"
    )
    states = freshness(artifact, load_source)
    assert states == {"aaaa1111": "stale", "bbbb2222": "fresh"}

    reloaded = [load_source(source) for source in artifact.sources]
    assert all(reloaded)
    summaries = [build_summary(one) for one in reloaded if one]
    sources = [
        source_of(one, source.source_path)
        for one, source in zip(reloaded, artifact.sources, strict=True)
        if one
    ]
    refreshed = refresh_artifact(repo, artifact.artifact_id, summaries, sources)

    assert refreshed.artifact_id == artifact.artifact_id
    assert refreshed.versions == 2
    assert git(work_repo, "rev-parse", f"{refreshed.ref}^") == artifact.commit
    assert refreshed.handoff.summaries[0].objective == "Fix the login bug, and the logout one"
    assert overall(freshness(refreshed, load_source)) == "fresh"


def test_a_deleted_source_is_reported_missing(
    repo: GitRepo, two_sessions: list[tuple[Session, Path]]
) -> None:
    artifact = save(repo, two_sessions)
    two_sessions[0][1].unlink()
    assert overall(freshness(artifact, load_source)) == "source_missing"


def test_artifacts_survive_gc_and_travel_with_the_documented_refspec(
    repo: GitRepo, work_repo: Path, tmp_path: Path, two_sessions: list[tuple[Session, Path]]
) -> None:
    artifact = save(repo, two_sessions)
    git(work_repo, "gc", "-q", "--prune=now")
    assert read_artifact(repo, artifact.artifact_id).commit == artifact.commit

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(work_repo, "push", "-q", str(remote), "refs/opensession/*:refs/opensession/*")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    git(clone, "fetch", "-q", "origin", "refs/opensession/*:refs/opensession/*")

    fetched = list_artifacts(GitRepo.discover(clone))
    assert [a.artifact_id for a in fetched] == [artifact.artifact_id]
    assert fetched[0].handoff == artifact.handoff


def test_artifacts_are_named_by_id_or_ref(
    repo: GitRepo, two_sessions: list[tuple[Session, Path]]
) -> None:
    artifact = save(repo, two_sessions)
    assert read_artifact(repo, artifact.ref).commit == artifact.commit
    with pytest.raises(ArtifactError, match="no handoff artifact 20990101T000000Z-deadbeef"):
        read_artifact(repo, "20990101T000000Z-deadbeef")
    with pytest.raises(ArtifactError, match="is not a handoff artifact id"):
        read_artifact(repo, "../../heads/main")


def test_a_ref_holding_something_else_is_unreadable_not_a_crash(
    repo: GitRepo, work_repo: Path
) -> None:
    blob = git(work_repo, "hash-object", "-w", "--stdin", input=b"junk")
    tree = git(work_repo, "mktree", input=f"100644 blob {blob}\tmanifest.json\n".encode())
    commit = git(work_repo, "commit-tree", tree, "-m", "junk")
    git(work_repo, "update-ref", f"{ARTIFACTS_PREFIX}20260101T000000Z-00000000", commit)
    with pytest.raises(ArtifactError, match="is unreadable"):
        list_artifacts(repo)
