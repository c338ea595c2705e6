"""The one place that knows every tool: parser lookup, auto-detection and parsing a path."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from opensession.parsers.base import Detection, ParseResult, SessionParseError, SessionParser

TOOLS: tuple[str, ...] = (
    "claude-code",
    "codex",
    "cursor",
    "gemini",
    "opencode",
    "amp",
    "cline",
    "goose",
    "aider",
)
"""Every supported tool, by its HAIL ``agent.tool`` name."""


class UnknownToolError(ValueError):
    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(f"unknown tool {tool!r}; supported tools: {', '.join(TOOLS)}")


class UnsupportedSessionError(SessionParseError):
    """Nothing recognised the source as a session file."""

    def __init__(self, source: str | Path) -> None:
        super().__init__(source, f"not a session file of any supported tool ({', '.join(TOOLS)})")


def get_parser(tool: str) -> SessionParser:
    """The parser of ``tool`` (its module is imported on first use, keeping start-up fast)."""
    if tool not in TOOLS:
        raise UnknownToolError(tool)
    module = import_module(f"opensession.parsers.{tool.replace('-', '_')}")
    parser: SessionParser = module.PARSER
    return parser


def detect(path: Path) -> list[Detection]:
    """Every parser's claim on ``path``, most confident first (empty when none claims it)."""
    from opensession.parsers.common import read_head

    head = read_head(path)
    claims = [get_parser(tool).detect(path, head) for tool in TOOLS]
    return sorted(
        (claim for claim in claims if claim is not None and claim.confidence > 0),
        key=lambda claim: claim.confidence,
        reverse=True,
    )


def parse_path(path: Path, tool: str | None = None) -> ParseResult:
    """Parse a session file or folder with ``tool``'s parser, or the most confident one."""
    if not path.exists():
        raise SessionParseError(path, "no such file or directory")
    if tool is None:
        candidates = detect(path)
        if not candidates:
            raise UnsupportedSessionError(path)
        tool = candidates[0].tool
    return get_parser(tool).parse(path)
