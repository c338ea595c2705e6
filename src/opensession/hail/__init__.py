"""HAIL, the one session format: model, JSONL I/O, stats, validation, sanitizing and scoring.

The most used names are here; the modules hold the rest (``opensession.hail.model`` has every
event type and content block).
"""

from opensession.hail.errors import HailFormatError
from opensession.hail.jsonl import (
    HailReader,
    HailWriter,
    ReadWarning,
    dumps_session,
    open_hail,
    read_header,
    read_session,
    read_summary,
    write_session,
)
from opensession.hail.model import HAIL_VERSION, Agent, Context, Event, Header, Session, Stats
from opensession.hail.stats import compute_stats
from opensession.hail.validate import Finding, validate_file, validate_session

__all__ = [
    "HAIL_VERSION",
    "Agent",
    "Context",
    "Event",
    "Finding",
    "HailFormatError",
    "HailReader",
    "HailWriter",
    "Header",
    "ReadWarning",
    "Session",
    "Stats",
    "compute_stats",
    "dumps_session",
    "open_hail",
    "read_header",
    "read_session",
    "read_summary",
    "validate_file",
    "validate_session",
    "write_session",
]
