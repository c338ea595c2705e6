"""What a shell command is for: a check (tests, lint, types, build), a read-only look, or work."""

from __future__ import annotations

import re

# A command is a check when one of its pipeline/&& segments runs a test, lint, type or build tool
# (by name or by path: ``.venv/bin/pytest``, ``./gradlew``).
_CHECK = re.compile(
    r"""(?x)^(?:\S*=\S*\s+)*(?:(?:uv|poetry|pdm|hatch|pipenv|bundle|npx|pnpx|bunx)\s+(?:run\s+|exec\s+)?)?
    (?:\S*/)?
    (?:
        (?:python3?|py)\s+-m\s+(?:pytest|unittest|mypy|ruff|flake8|pylint|tox|nox|pyright)\b
      | (?:pytest|py\.test|tox|nox|mypy|pyright|ruff|flake8|pylint)\b
      | (?:black|isort)\s+--check\b
      | (?:npm|pnpm|yarn|bun)\s+(?:run\s+)?(?:test|lint|typecheck|type-check|check|build|ci)\b
      | (?:jest|vitest|mocha|ava|playwright\s+test|cypress\s+run|eslint|tsc|biome)\b
      | prettier\s+--check\b
      | cargo\s+(?:test|check|clippy|build|nextest|fmt\s+--check|fmt\s+--\s+--check)\b
      | go\s+(?:test|vet|build)\b | golangci-lint\b | staticcheck\b
      | (?:mvnw?|gradlew?)\b.*\b(?:test|verify|check|build)\b
      | (?:make|just|task)\s+(?:test|tests|check|lint|ci|build|verify)\b
      | (?:mix)\s+(?:test|credo|dialyzer|compile|format\s+--check-formatted)\b
      | (?:rspec|rubocop|rake\s+test|bundle\s+exec\s+rspec)\b
      | (?:dotnet)\s+(?:test|build)\b | (?:swift)\s+(?:test|build)\b
      | (?:ctest|bats|shellcheck|hadolint|phpunit|phpstan|deno\s+(?:test|lint|check))\b
      | pre-commit\s+run\b
    )"""
)

_READ_ONLY = re.compile(
    r"""(?x)^(?:
        ls|ll|cat|head|tail|less|more|pwd|echo|printf|wc|file|stat|tree|which|type|whoami|date
      | grep|egrep|rg|ag|ack|find|fd|locate|du|df|env|printenv|history|man|diff|cmp|jq|sort|uniq
      | sed\s+-n|awk
      | git\s+(?:status|log|diff|show|branch|remote|rev-parse|blame|ls-files|describe)
      | git\s+config\s+--get
      | (?:gh|glab)\s+(?:pr|issue|repo|run)\s+(?:view|list|status|diff|checks)
    )\b"""
)

_SEGMENT = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
_CD = re.compile(r"^cd\s+\S+$")
_REDIRECT = re.compile(r"\s*\d?>&?\s*\S+")
# Output sent to a file (``> notes.md``, ``2>> err.log``), not to a descriptor or /dev/null.
_WRITES = re.compile(r"(?<!>)>>?(?![>&])\s*(?!/dev/null\b)\S")


def _segments(command: str) -> list[str]:
    return [part for part in _SEGMENT.split(command.strip()) if part and not _CD.match(part)]


def check_name(command: str) -> str | None:
    """The check ``command`` runs, without what only shapes its output (``2>&1 | tail -20``),
    so that runs of one check compare; None when it runs none."""
    parts = [_REDIRECT.sub("", part).strip() for part in _segments(command)]
    checks = [part for part in parts if _CHECK.match(part)]
    return " && ".join(checks) if checks else None


def is_read_only(command: str) -> bool:
    """Whether ``command`` only looks (``ls``, ``cat``, ``git status`` …): nothing to replay.
    Writing output to a file (``cat > notes.md``) is not looking."""
    parts = _segments(command)
    return bool(parts) and all(
        _READ_ONLY.match(part) and not _WRITES.search(part) for part in parts
    )
