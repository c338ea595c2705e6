"""Parse one session file for a preview.

The bytes are written under their (sanitized) file name into a private temporary folder, since
some parsers read the name as well as the content (``rollout-*.jsonl``,
``.aider.chat.history.md``, ``api_conversation_history.json``). Every parser, and a HAIL reader,
then judges the file; the most confident one parses it, the next one if it fails. The folder is
gone when the preview is, and the temporary path is replaced by the source's own path wherever
it shows (``source_path``, warnings).
"""

from __future__ import annotations

import logging
import posixpath
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensession.hail.errors import HailFormatError
from opensession.hail.jsonl import ReadWarning, read_session
from opensession.hail.model import Session
from opensession.parsers.base import Detection, SessionParseError
from opensession.parsers.common import first_json_lines, read_head
from opensession.parsers.registry import TOOLS, detect, get_parser
from opensession.server.errors import ApiError

logger = logging.getLogger("opensession.server.ingest")

HAIL = "hail"
PARSER_IDS: tuple[str, ...] = (HAIL, *TOOLS)
"""What ``parser_hint`` may name: HAIL itself, or any supported tool."""

_MAX_WARNINGS = 100
_UNSAFE_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9._-]")
_MAX_NAME = 120


@dataclass(frozen=True)
class Preview:
    """A parsed source: the parser used, every parser's claim, the session and warnings."""

    parser_used: str
    parser_candidates: list[Detection]
    session: Session
    warnings: list[str]

    @property
    def native_adapter(self) -> str | None:
        """The tool whose own format was read (None when the source was HAIL already)."""
        return None if self.parser_used == HAIL else self.parser_used


def safe_filename(name: str) -> str:
    """``name``'s last path part, with only letters, digits, ``.``, ``_`` and ``-`` (others
    become ``_``), at most 120 characters (the end, which holds the suffix, is kept)."""
    last = re.split(r"[/\\]", name)[-1]
    safe = _UNSAFE_NAME_CHARACTER.sub("_", last)[-_MAX_NAME:]
    return safe if safe.strip(".") else "session"


def preview_session(source_path: str, content: bytes, parser_hint: str | None) -> Preview:
    """Parse ``content``, the file at ``source_path`` (its name may matter to detection), with
    ``parser_hint`` first when given, then the detected candidates, most confident first.

    Raises ApiError, carrying ``parser_candidates``: 400 ``invalid_parser_hint``, 422
    ``unsupported_session`` (no parser claims it), ``parser_selection_required`` (the most
    confident claims tie) or ``parse_failed`` (every parser tried failed)."""
    with tempfile.TemporaryDirectory(prefix="opensession-ingest-") as folder:
        path = Path(folder) / safe_filename(source_path)
        path.write_bytes(content)
        candidates = detect_candidates(path)
        order = parsers_to_try(candidates, parser_hint)
        relocate = _relocator(path, source_path)
        failures: list[str] = []
        for parser_id in order:
            try:
                sessions, warnings = _parse(parser_id, path)
            except (SessionParseError, HailFormatError) as exc:
                failures.append(f"parser {parser_id!r} failed: {relocate(str(exc))}")
                continue
            except Exception:  # a parser bug on odd input must not fail the whole request
                logger.exception("parser %s crashed on an ingest preview", parser_id)
                failures.append(f"parser {parser_id!r} failed unexpectedly")
                continue
            session = sessions[0]
            session.context.attributes = _relocated(session.context.attributes, relocate)
            notes = failures + [relocate(warning) for warning in warnings]
            if len(sessions) > 1:
                notes.append(
                    f"the source holds {len(sessions)} sessions; the preview shows the first"
                )
            return Preview(parser_id, candidates, session, _capped(notes))
        raise ApiError(
            422, "parse_failed", "; ".join(failures), parser_candidates=candidate_list(candidates)
        )


def parsers_to_try(candidates: list[Detection], parser_hint: str | None) -> list[str]:
    """The parsers to try in order: the hint, then the other candidates, most confident first.
    ApiError when the hint is unknown, nothing claims the file, or, without a hint, the most
    confident claims tie."""
    if parser_hint is not None and parser_hint not in PARSER_IDS:
        raise ApiError(
            400,
            "invalid_parser_hint",
            f"unknown parser_hint {parser_hint!r}; one of: {', '.join(PARSER_IDS)}",
            parser_candidates=candidate_list(candidates),
        )
    if parser_hint is not None:
        return [parser_hint, *(claim.tool for claim in candidates if claim.tool != parser_hint)]
    if not candidates:
        raise ApiError(
            422,
            "unsupported_session",
            f"neither HAIL nor a session file of a supported tool ({', '.join(TOOLS)})",
            parser_candidates=[],
        )
    tied = [claim.tool for claim in candidates if claim.confidence == candidates[0].confidence]
    if len(tied) > 1:
        raise ApiError(
            422,
            "parser_selection_required",
            f"{' and '.join(tied)} claim the file equally; retry with a parser_hint",
            parser_candidates=candidate_list(candidates),
        )
    return [claim.tool for claim in candidates]


def detect_candidates(path: Path) -> list[Detection]:
    """Every claim on the file, most confident first: HAIL's and each tool parser's."""
    records = first_json_lines(read_head(path), 1)
    claims = detect(path)
    if records and records[0].get("type") == "header" and "session_id" in records[0]:
        claims.insert(0, Detection(HAIL, 100, "HAIL JSONL header line"))
    return sorted(claims, key=lambda claim: claim.confidence, reverse=True)


def _parse(parser_id: str, path: Path) -> tuple[list[Session], list[str]]:
    """The sessions read from ``path`` by ``parser_id``, and the warnings of the reading."""
    if parser_id == HAIL:
        read_warnings: list[ReadWarning] = []
        session = read_session(path, on_warning=read_warnings.append)
        return [session], [str(warning) for warning in read_warnings]
    result = get_parser(parser_id).parse(path)
    return result.sessions, [str(warning) for warning in result.warnings]


def candidate_list(candidates: list[Detection]) -> list[dict[str, Any]]:
    """The candidates as the API lists them."""
    return [
        {"id": claim.tool, "confidence": claim.confidence, "reason": claim.reason}
        for claim in candidates
    ]


def _relocator(path: Path, source_path: str) -> Callable[[str], str]:
    """Replaces the temporary file's path by ``source_path`` and its folder by the source's."""
    folder = str(path.parent)
    source_folder = posixpath.dirname(source_path) or "."

    def relocate(text: str) -> str:
        return text.replace(str(path), source_path).replace(folder, source_folder)

    return relocate


def _relocated(value: Any, relocate: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return relocate(value)
    if isinstance(value, dict):
        return {key: _relocated(item, relocate) for key, item in value.items()}
    if isinstance(value, list):
        return [_relocated(item, relocate) for item in value]
    return value


def _capped(warnings: list[str]) -> list[str]:
    if len(warnings) <= _MAX_WARNINGS:
        return warnings
    extra = len(warnings) - _MAX_WARNINGS
    return [*warnings[:_MAX_WARNINGS], f"… and {extra} more warnings"]
