"""The kinds of event a reader filters a timeline by: messages, tools, file changes, shell
commands and thinking (the web page's and the terminal UI's filters ``1`` to ``5``)."""

EVENT_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("UserMessage", "AgentMessage", "SystemMessage"), "message"),
    **dict.fromkeys(
        (
            "ToolCall", "ToolResult", "FileRead", "CodeSearch", "FileSearch", "WebSearch",
            "WebFetch", "ImageGenerate", "VideoGenerate", "AudioGenerate",
        ),
        "tool",
    ),
    **dict.fromkeys(("FileEdit", "FileCreate", "FileDelete"), "file"),
    "ShellCommand": "shell",
    "Thinking": "thinking",
}  # fmt: skip
"""Each event type's category, by its name; the rest (tasks, custom, unknown) are ``other``."""
