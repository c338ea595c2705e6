"""Errors raised while reading HAIL, and one-line descriptions of pydantic's validation errors."""

from __future__ import annotations

from pydantic import ValidationError


class HailFormatError(ValueError):
    """A HAIL file that cannot be read: names the source, the line when known, and the cause."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.reason = reason
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``field.path: message`` on one line.

    Known event types and content blocks are tried before the catch-all for unknown tags; when
    both fail, the known variant's complaint is the one that explains the mistake.
    """
    errors = exc.errors(include_url=False)
    specific = [e for e in errors if not _is_fallback_rejection(e["loc"])] or errors
    first = specific[0]
    path = ".".join(str(part) for part in first["loc"] if not _is_union_label(part))
    message = first["msg"]
    if first["type"] == "json_invalid":
        return f"not valid JSON ({first['ctx'].get('error', message)})"
    if len(specific) > 1:
        message += f" (and {len(specific) - 1} more problem{'s' if len(specific) > 2 else ''})"
    return f"{path}: {message}" if path else message


def _is_union_label(part: str | int) -> bool:
    return isinstance(part, str) and part.startswith("tagged-union[")


def _is_fallback_rejection(loc: tuple[str | int, ...]) -> bool:
    return any(isinstance(p, str) and p in ("UnknownEventType", "UnknownBlock") for p in loc)
