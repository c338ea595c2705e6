"""Several sessions' handoffs as one document, oldest session first (``time_asc``, fixed)."""

from __future__ import annotations

from collections.abc import Iterable

from opensession.handoff.schema import FileAction, FileModified, MergedHandoff, SessionSummary


def merge_summaries(summaries: Iterable[SessionSummary]) -> MergedHandoff:
    """One handoff of ``summaries`` in chronological order of their sessions' start.

    A file's action is the net one across sessions, as within one session: created then
    edited stays created, created then deleted is dropped, created again after being edited or
    deleted is edited (it existed before the first session), anything else takes the latest
    action.
    """
    ordered = sorted(summaries, key=lambda s: (s.created_at or "", s.source_session_id))
    modified: dict[str, FileAction] = {}
    read: dict[str, None] = {}
    errors: list[str] = []
    for summary in ordered:
        for change in summary.files_modified:
            before = modified.pop(change.path, None)
            if before == "created" and change.action == "deleted":
                continue
            modified[change.path] = _net(before, change.action)
        read.update(dict.fromkeys(summary.files_read))
        label = summary.source_session_id[:8]
        errors += [f"{label}: {error}" for error in summary.errors]
    return MergedHandoff(
        source_session_ids=[s.source_session_id for s in ordered],
        summaries=ordered,
        all_files_modified=[FileModified(path=p, action=a) for p, a in modified.items()],
        all_files_read=[path for path in read if path not in modified],
        total_duration_seconds=sum(s.duration_seconds for s in ordered),
        total_errors=errors,
    )


def _net(before: FileAction | None, action: FileAction) -> FileAction:
    """The net action on a file that was ``before`` (None: untouched) and is then ``action``."""
    if before == "created":
        return "created"
    if before is not None and action == "created":
        return "edited"
    return action
