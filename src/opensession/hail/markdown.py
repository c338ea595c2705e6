"""A session as Markdown: a heading with its facts, then every event in order."""

from __future__ import annotations

import orjson

from opensession.hail import model as m


def _fence(text: str, language: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside ``text``."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def format_duration(seconds: int) -> str:
    """``42s``, ``3m 5s``, ``2h 10m``."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def _heading(event: m.Event) -> str:
    kind = event.event_type
    time = event.timestamp.strftime("%H:%M:%S")
    titles: dict[type, str] = {
        m.UserMessage: "User",
        m.AgentMessage: "Assistant",
        m.SystemMessage: "System",
        m.Thinking: "Thinking",
    }
    if type(kind) in titles:
        return f"### {titles[type(kind)]} · {time}"
    data = getattr(kind, "data", None)
    detail = ""
    if isinstance(kind, m.ToolCall | m.ToolResult):
        detail = f" `{kind.data.name}`"
        if isinstance(kind, m.ToolResult) and kind.data.is_error:
            detail += " (error)"
    elif isinstance(kind, m.ShellCommand) and kind.data.exit_code is not None:
        detail = f" (exit {kind.data.exit_code})"
    elif isinstance(data, m.PathData | m.FileEditData):
        detail = f" `{data.path}`"
    elif isinstance(data, m.QueryData | m.PatternData | m.UrlData | m.PromptData):
        detail = f" `{next(iter(data.model_dump().values()))}`"
    elif isinstance(kind, m.TaskStart) and kind.data.title:
        detail = f" {kind.data.title}"
    elif isinstance(kind, m.Custom):
        detail = f" `{kind.data.kind}`"
    return f"### {kind.type}{detail} · {time}"


def _block(block: m.HailModel) -> str:
    if isinstance(block, m.TextBlock):
        return block.text
    if isinstance(block, m.CodeBlock):
        return _fence(block.code, block.language or "")
    if isinstance(block, m.ImageBlock):
        if block.url.startswith("data:"):
            return f"*(embedded {block.mime} image{': ' + block.alt if block.alt else ''})*"
        return f"![{block.alt or 'image'}]({block.url})"
    if isinstance(block, m.FileBlock):
        return f"`{block.path}`" + (f"\n\n{_fence(block.content)}" if block.content else "")
    if isinstance(block, m.JsonBlock):
        return _fence(orjson.dumps(block.data, option=orjson.OPT_INDENT_2).decode(), "json")
    if isinstance(block, m.VideoBlock | m.AudioBlock | m.ReferenceBlock):
        link = block.uri if isinstance(block, m.ReferenceBlock) else block.url
        return f"<{link}>"
    return _fence(block.model_dump_json(), "json")


def session_to_markdown(session: m.Session) -> str:
    """The whole session as Markdown (nothing shortened)."""
    agent, context, stats = session.agent, session.context, session.stats
    tool = agent.tool + (f" {agent.tool_version}" if agent.tool_version else "")
    lines = [
        f"# {context.title or session.session_id}",
        "",
        f"- **Tool**: {tool} · **Model**: {agent.model} ({agent.provider})",
        f"- **Session**: `{session.session_id}` · **Started**: "
        f"{m.format_timestamp(context.created_at)} · **Duration**: "
        f"{format_duration(stats.duration_seconds)}",
        f"- **Messages**: {stats.message_count} · **Tool calls**: {stats.tool_call_count} · "
        f"**Tokens**: {stats.total_input_tokens:,} in / {stats.total_output_tokens:,} out · "
        f"**Files changed**: {stats.files_changed} (+{stats.lines_added} -{stats.lines_removed})",
    ]
    for event in session.events:
        lines += ["", _heading(event)]
        for block in event.content.blocks:
            lines += ["", _block(block)]
        kind = event.event_type
        shown = any(isinstance(block, m.CodeBlock) for block in event.content.blocks)
        if isinstance(kind, m.FileEdit) and kind.data.diff and not shown:
            lines += ["", _fence(kind.data.diff, "diff")]
    return "\n".join(lines) + "\n"
