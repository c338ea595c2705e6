"""A session made ready to leave the machine, as the config's privacy settings say."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from opensession.config.settings import Settings
from opensession.hail.jsonl import dumps_session
from opensession.hail.model import Session
from opensession.hail.sanitize import RedactionReport, SanitizeOptions, sanitize_session


class ExcludedProjectError(ValueError):
    """The session's project matches ``privacy.exclude_projects``: it is never published."""


@dataclass(frozen=True)
class PreparedSession:
    """A sanitized session ready to leave: the session, its HAIL bytes and what was redacted."""

    session: Session
    body: bytes
    report: RedactionReport


def excluded_by(cwd: str | None, patterns: list[str]) -> str | None:
    """The first ``privacy.exclude_projects`` entry that covers ``cwd``: a path (the project
    itself or a folder above it; ``~`` expanded) or a glob pattern matched against the path."""
    if not cwd:
        return None
    project = Path(cwd)
    for pattern in patterns:
        expanded = str(Path(pattern).expanduser())
        if any(char in pattern for char in "*?["):
            if fnmatch.fnmatchcase(str(project), expanded):
                return pattern
        elif project == Path(expanded) or Path(expanded) in project.parents:
            return pattern
    return None


def prepare_session(session: Session, settings: Settings) -> PreparedSession:
    """``session`` sanitized (secrets redacted unless ``privacy.redact_secrets`` is off; home
    directories masked with ``privacy.mask_home_paths``) as HAIL bytes.

    Raises ExcludedProjectError when its working directory is under an excluded project.
    """
    cwd = session.context.attributes.get("cwd")
    pattern = excluded_by(cwd if isinstance(cwd, str) else None, settings.exclude_projects)
    if pattern is not None:
        raise ExcludedProjectError(
            f"session {session.session_id} is in {cwd}, which "
            f"privacy.exclude_projects excludes ({pattern!r}); it is never published"
        )
    options = SanitizeOptions(
        redact_secrets=settings.redact_secrets,
        mask_home_paths=settings.mask_home_paths,
        home_dirs=(str(Path.home()),),
    )
    sanitized, report = sanitize_session(session, options)
    return PreparedSession(sanitized, dumps_session(sanitized), report)
