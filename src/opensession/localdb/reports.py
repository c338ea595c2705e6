"""Totals over the local index, grouped in one SQL query: what ``opensession stats`` shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from opensession.localdb.store import LocalIndex, timestamp

GroupBy = Literal["tool", "model", "day", "repo"]
GROUPS: tuple[GroupBy, ...] = ("tool", "model", "day", "repo")

_GROUP_SQL: dict[GroupBy, str] = {
    "tool": "tool",
    "model": "model",
    "day": "substr(created_at, 1, 10)",
    "repo": "coalesce(repo_root, '(no repo)')",
}
"""The grouping expression of each ``GroupBy`` (``day`` is the UTC day of creation)."""


@dataclass(frozen=True)
class Totals:
    """What a group of sessions adds up to.

    ``sessions`` and ``duration_seconds`` count main sessions only (a sub-agent runs within its
    parent's time); messages, tool calls, tokens and lines count sub-agents' work too.
    """

    group: str | None
    sessions: int
    sub_agents: int
    messages: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    lines_added: int
    lines_removed: int
    duration_seconds: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with these field names."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def session_totals(
    index: LocalIndex, *, since: datetime | None = None, by: GroupBy | None = None
) -> list[Totals]:
    """Totals of the sessions created since ``since``, one per group of ``by`` (largest groups
    first, days newest first), or a single overall one (zeros when none) when ``by`` is None."""
    group = _GROUP_SQL[by] if by else "NULL"
    sql = (
        f"SELECT {group} AS grp, "
        "sum(is_auxiliary = 0), sum(is_auxiliary), sum(message_count), sum(tool_call_count), "
        "sum(total_input_tokens), sum(total_output_tokens), sum(lines_added), "
        "sum(lines_removed), sum(CASE WHEN is_auxiliary = 0 THEN duration_seconds ELSE 0 END) "
        "FROM sessions"
    )
    params: list[Any] = []
    if since is not None:
        sql += " WHERE created_at >= ?"
        params.append(timestamp(since))
    if by:
        order = "grp DESC" if by == "day" else "count(*) DESC, grp"
        sql += f" GROUP BY grp ORDER BY {order}"
    rows = index.db.execute(sql, params).fetchall()
    return [Totals(row[0], *(value or 0 for value in row[1:])) for row in rows]
