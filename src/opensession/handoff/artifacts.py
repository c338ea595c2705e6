"""Handoff artifacts: merged handoffs stored as git refs, the canonical source of ``HANDOFF.md``.

An artifact is a commit under ``refs/opensession/handoff/artifacts/<artifact_id>`` whose tree
holds the payload (``handoff.json``, the merged handoff, or ``handoff.jsonl``, one session
summary per line) and ``manifest.json`` (the source sessions with a fingerprint of each one's
content). Nothing touches the working tree or the index. An artifact is stale once a source
session's content differs from its fingerprint; ``refresh`` rebuilds it as a new commit whose
parent is the old one, so its history is kept. Share artifacts with
``git push origin 'refs/opensession/*:refs/opensession/*'`` and fetch them with the same refspec.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from opensession.gitnative.repo import GitError, GitRepo
from opensession.hail.jsonl import dumps_session
from opensession.hail.model import Session, format_timestamp
from opensession.handoff.merge import merge_summaries
from opensession.handoff.schema import MergedHandoff, SessionSummary

ARTIFACTS_PREFIX = "refs/opensession/handoff/artifacts/"
MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "opensession.handoff.artifact.v1"
PayloadFormat = Literal["json", "jsonl"]
Freshness = Literal["fresh", "stale", "source_missing"]

_ARTIFACT_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8,}")

SessionLoader = Callable[["SourceSession"], Session | None]
"""Reads a source session again (None when it is gone), to tell whether it changed."""


class ArtifactError(LookupError):
    """An artifact that does not exist or cannot be read: one line saying which and why."""


@dataclass(frozen=True)
class SourceSession:
    """A session an artifact was built from, and the fingerprint of its content then."""

    session_id: str
    tool: str
    source_path: str
    content_hash: str

    def to_json(self) -> dict[str, str]:
        return {
            "session_id": self.session_id,
            "tool": self.tool,
            "source_path": self.source_path,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class Artifact:
    """One stored artifact, as its ref's commit holds it."""

    artifact_id: str
    commit: str
    created_at: str
    payload_format: PayloadFormat
    sources: list[SourceSession]
    handoff: MergedHandoff
    versions: int
    """Commits in its history (1 until refreshed)."""

    @property
    def ref(self) -> str:
        return ARTIFACTS_PREFIX + self.artifact_id


def content_hash(session: Session) -> str:
    """``sha256:<hex>`` of the session's canonical HAIL JSONL."""
    return "sha256:" + hashlib.sha256(dumps_session(session)).hexdigest()


def source_of(session: Session, source_path: str) -> SourceSession:
    """The manifest entry of ``session``, read from ``source_path``."""
    return SourceSession(session.session_id, session.agent.tool, source_path, content_hash(session))


def artifact_ref(name: str) -> str:
    """The full ref of an artifact named by id or by ref (ArtifactError when malformed)."""
    artifact_id = name.removeprefix(ARTIFACTS_PREFIX).strip()
    if not _ARTIFACT_ID.fullmatch(artifact_id):
        raise ArtifactError(
            f"{name!r} is not a handoff artifact id (like 20261125T101500Z-1a2b3c4d) or "
            f"a ref under {ARTIFACTS_PREFIX}"
        )
    return ARTIFACTS_PREFIX + artifact_id


def save_artifact(
    repo: GitRepo,
    summaries: Sequence[SessionSummary],
    sources: Sequence[SourceSession],
    payload_format: PayloadFormat = "json",
    *,
    now: datetime | None = None,
) -> Artifact:
    """Store a new artifact of the merged ``summaries`` built from ``sources``."""
    handoff = merge_summaries(summaries)
    created = now or datetime.now(UTC)
    payload = _payload(handoff, payload_format)
    artifact_id = f"{created.strftime('%Y%m%dT%H%M%SZ')}-{hashlib.sha256(payload).hexdigest()[:8]}"
    manifest = _manifest(artifact_id, created, payload_format, handoff, sources)
    commit = _commit(repo, manifest, payload, payload_format, f"handoff artifact {artifact_id}", [])
    repo.update_ref(ARTIFACTS_PREFIX + artifact_id, commit, None, "opensession handoff save")
    return read_artifact(repo, artifact_id)


def refresh_artifact(
    repo: GitRepo,
    name: str,
    summaries: Sequence[SessionSummary],
    sources: Sequence[SourceSession],
) -> Artifact:
    """Replace the artifact's content with ``summaries`` rebuilt from ``sources``: a new commit
    whose parent is the current one (the ref only moves if nobody moved it meanwhile)."""
    current = read_artifact(repo, name)
    handoff = merge_summaries(summaries)
    payload = _payload(handoff, current.payload_format)
    manifest = _manifest(
        current.artifact_id, datetime.now(UTC), current.payload_format, handoff, sources
    )
    commit = _commit(
        repo,
        manifest,
        payload,
        current.payload_format,
        f"handoff artifact {current.artifact_id} refreshed",
        [current.commit],
    )
    repo.update_ref(current.ref, commit, current.commit, "opensession handoff artifact refresh")
    return read_artifact(repo, current.artifact_id)


def list_artifacts(repo: GitRepo) -> list[Artifact]:
    """Every artifact of the repository, newest first."""
    artifacts = [read_artifact(repo, ref.name) for ref in repo.list_refs(ARTIFACTS_PREFIX)]
    return sorted(artifacts, key=lambda a: a.artifact_id, reverse=True)


def read_artifact(repo: GitRepo, name: str) -> Artifact:
    """The artifact named by id or ref (ArtifactError when there is none or it is unreadable)."""
    ref = artifact_ref(name)
    commit = repo.resolve(ref)
    if commit is None:
        raise ArtifactError(
            f"no handoff artifact {ref.removeprefix(ARTIFACTS_PREFIX)}; "
            "'opensession session handoff artifact list' shows them"
        )
    try:
        manifest = orjson.loads(repo.read_file(commit, MANIFEST))
        payload_format: PayloadFormat = manifest["payload_format"]
        payload = repo.read_file(commit, f"handoff.{payload_format}")
        sources = [SourceSession(**entry) for entry in manifest["sources"]]
        handoff = _read_payload(payload, payload_format)
        versions = len(repo.log(commit))
    except (GitError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"artifact {ref} is unreadable: {str(exc).splitlines()[0]}") from None
    return Artifact(
        artifact_id=manifest["artifact_id"],
        commit=commit,
        created_at=manifest["created_at"],
        payload_format=payload_format,
        sources=sources,
        handoff=handoff,
        versions=versions,
    )


def freshness(artifact: Artifact, load: SessionLoader) -> dict[str, Freshness]:
    """Each source session's state: unchanged (``fresh``), changed, or gone."""
    states: dict[str, Freshness] = {}
    for source in artifact.sources:
        session = load(source)
        if session is None:
            states[source.session_id] = "source_missing"
        else:
            fresh = content_hash(session) == source.content_hash
            states[source.session_id] = "fresh" if fresh else "stale"
    return states


def overall(states: dict[str, Freshness]) -> Freshness:
    """The artifact's state: missing beats stale beats fresh."""
    for state in ("source_missing", "stale"):
        if state in states.values():
            return state  # type: ignore[return-value]
    return "fresh"


def _payload(handoff: MergedHandoff, payload_format: PayloadFormat) -> bytes:
    if payload_format == "jsonl":
        return b"".join(orjson.dumps(s.to_json()) + b"\n" for s in handoff.summaries)
    return orjson.dumps(handoff.to_json(), option=orjson.OPT_INDENT_2) + b"\n"


def _read_payload(payload: bytes, payload_format: PayloadFormat) -> MergedHandoff:
    if payload_format == "jsonl":
        lines = [line for line in payload.splitlines() if line.strip()]
        return merge_summaries(SessionSummary.model_validate_json(line) for line in lines)
    return MergedHandoff.model_validate_json(payload)


def _manifest(
    artifact_id: str,
    created: datetime,
    payload_format: PayloadFormat,
    handoff: MergedHandoff,
    sources: Sequence[SourceSession],
) -> dict[str, Any]:
    order = {session_id: n for n, session_id in enumerate(handoff.source_session_ids)}
    ordered = sorted(sources, key=lambda s: order.get(s.session_id, len(order)))
    return {
        "schema": MANIFEST_SCHEMA,
        "artifact_id": artifact_id,
        "created_at": format_timestamp(created),
        "payload_format": payload_format,
        "merge_policy": handoff.merge_policy,
        "sources": [source.to_json() for source in ordered],
    }


def _commit(
    repo: GitRepo,
    manifest: dict[str, Any],
    payload: bytes,
    payload_format: PayloadFormat,
    message: str,
    parents: list[str],
) -> str:
    files = {
        MANIFEST: repo.write_blob(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"),
        f"handoff.{payload_format}": repo.write_blob(payload),
    }
    return repo.commit_tree(repo.write_tree(files), message, parents)


def load_source(source: SourceSession) -> Session | None:
    """The source session read again from its file (None when the file or session is gone)."""
    from opensession.localdb.refs import ResolvedSession, SessionRefError, load_session

    path = Path(source.source_path)
    if not path.exists():
        return None
    try:
        return load_session(ResolvedSession(source.session_id, path, source.tool))
    except SessionRefError:
        return None
