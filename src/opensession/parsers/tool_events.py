"""Tool calls as HAIL events: one mapping from the tools' many names for reading, editing,
running and searching to HAIL's event types, shared by every parser.

Tools name the same action differently (Claude Code ``Read``, Cline ``read_file``, OpenCode
``read``, Gemini ``read_file``, Amp ``Read``…) and put its arguments under different keys
(``file_path``, ``path``, ``filePath``…); this module knows them all, so a parser only says
which tool was called with which arguments.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Mapping
from typing import Any

from opensession.hail import model as m

_KINDS: dict[str, frozenset[str]] = {
    "read": frozenset({"read", "read_file", "readfile", "view", "view_file", "read_many_files"}),
    "edit": frozenset(
        {"edit", "edit_file", "str_replace", "replace", "replace_in_file", "apply_diff",
         "search_replace", "search_and_replace", "insert_content", "multiedit", "multi_edit",
         "apply_patch", "patch"}
    ),
    "write": frozenset({"write", "write_file", "write_to_file", "create_file", "create"}),
    "delete": frozenset({"delete", "delete_file", "remove_file"}),
    "shell": frozenset(
        {"bash", "shell", "execute_command", "run_terminal_cmd", "run_shell_command",
         "exec_command", "shell_command", "container.exec", "local_shell", "terminal",
         "run_command"}
    ),
    "code_search": frozenset(
        {"grep", "search_files", "grep_search", "search_file_content", "codebase_search", "rg"}
    ),
    "file_search": frozenset(
        {"glob", "glob_file_search", "file_search", "find_files", "list_files", "list_dir",
         "list_directory", "ls", "list"}
    ),
    "web_search": frozenset({"websearch", "web_search", "google_web_search", "search_web"}),
    "web_fetch": frozenset({"webfetch", "web_fetch", "read_web_page", "fetch", "url_fetch"}),
}  # fmt: skip
_KIND_OF = {name: kind for kind, names in _KINDS.items() for name in names}
_PATH_KINDS = frozenset({"read", "edit", "write", "delete", "file_search"})

_PATH_KEYS = ("file_path", "path", "filePath", "target_file", "absolute_path", "file", "filename")
_COMMAND_KEYS = ("command", "cmd", "commandLine")
_PATTERN_KEYS = (
    "pattern",
    "query",
    "regex",
    "glob",
    "glob_pattern",
    "filePattern",
    "search_term",
    "search",
)
_URL_KEYS = ("url", "uri", "href")
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+")


def tool_kind(name: str) -> str | None:
    """``read``, ``edit``, ``write``, ``delete``, ``shell``, ``code_search``, ``file_search``,
    ``web_search``, ``web_fetch`` — or None for a tool HAIL has no dedicated type for."""
    return _KIND_OF.get(name.strip().lower())


def _first_string(arguments: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _url_in(arguments: Mapping[str, Any]) -> str | None:
    """The first http(s) URL inside a string argument (Gemini's web_fetch puts them in a prompt)."""
    for value in arguments.values():
        if isinstance(value, str) and (found := _URL.search(value)):
            return found.group()
    return None


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff of one file's change, with ``a/`` and ``b/`` headers."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path.lstrip('/')}",
        tofile=f"b/{path.lstrip('/')}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _edit_diff(path: str, arguments: Mapping[str, Any]) -> str | None:
    given = _first_string(arguments, ("diff", "patch", "input"))
    if given is not None:
        return given
    edits = arguments.get("edits")
    pairs = edits if isinstance(edits, list) else [arguments]
    diffs = []
    for edit in pairs:
        if not isinstance(edit, Mapping):
            continue
        old = _first_string(
            edit, ("old_string", "oldString", "old_str", "old_text", "old", "search")
        )
        new = _first_string(
            edit, ("new_string", "newString", "new_str", "new_text", "new", "replace")
        )
        if old is not None or new is not None:
            diffs.append(unified_diff(path, old or "", new or ""))
    return "".join(diffs) or None


def tool_event_type(
    name: str, arguments: Mapping[str, Any] | None, *, file_existed: bool = False
) -> (
    m.FileRead
    | m.FileEdit
    | m.FileCreate
    | m.FileDelete
    | m.ShellCommand
    | m.CodeSearch
    | (m.FileSearch | m.WebSearch | m.WebFetch | m.ToolCall)
):
    """The HAIL event type of a call to tool ``name`` with ``arguments``.

    A write to a file that ``file_existed`` is a FileEdit (without a diff: the old content is
    not known), otherwise a FileCreate. A call whose arguments lack what its type needs (a
    read without a path) falls back to a plain ToolCall rather than inventing a value.
    """
    args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
    kind = tool_kind(name)
    if kind == "shell":  # the most common call: it needs no path
        command = args.get("command", args.get("cmd"))
        if isinstance(command, list) and all(isinstance(part, str) for part in command):
            command = shlex.join(command)
        if isinstance(command, str) and command:
            return m.ShellCommand(data=m.ShellCommandData(command=command))
        return m.ToolCall(data=m.NameData(name=name))
    path = _first_string(args, _PATH_KEYS) if kind in _PATH_KINDS else None
    if kind == "read" and path:
        return m.FileRead(data=m.PathData(path=path))
    if kind == "edit" and path:
        return m.FileEdit(data=m.FileEditData(path=path, diff=_edit_diff(path, args)))
    if kind == "write" and path:
        if file_existed:
            return m.FileEdit(data=m.FileEditData(path=path))
        return m.FileCreate(data=m.PathData(path=path))
    if kind == "delete" and path:
        return m.FileDelete(data=m.PathData(path=path))
    if kind == "code_search" and (query := _first_string(args, _PATTERN_KEYS)):
        return m.CodeSearch(data=m.QueryData(query=query))
    if kind == "file_search" and (pattern := _first_string(args, _PATTERN_KEYS) or path):
        return m.FileSearch(data=m.PatternData(pattern=pattern))
    if kind == "web_search" and (query := _first_string(args, _PATTERN_KEYS)):
        return m.WebSearch(data=m.QueryData(query=query))
    if kind == "web_fetch" and (url := _first_string(args, _URL_KEYS) or _url_in(args)):
        return m.WebFetch(data=m.UrlData(url=url))
    return m.ToolCall(data=m.NameData(name=name))


def tool_call_blocks(event_type: m.HailModel, arguments: Any) -> list[m.HailModel]:
    """Content for a tool call event: the command as bash code for a shell command, the diff
    for an edit, and the call's arguments as JSON otherwise (nothing when there are none)."""
    if isinstance(event_type, m.ShellCommand):
        return [m.CodeBlock(code=event_type.data.command, language="bash")]
    if isinstance(event_type, m.FileEdit) and event_type.data.diff:
        return [m.CodeBlock(code=event_type.data.diff, language="diff")]
    if arguments in (None, {}, []):
        return []
    return [m.JsonBlock(data=arguments)]
