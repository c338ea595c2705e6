"""Saving an incremental parse and resuming it elsewhere: the same sessions as a full parse."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from opensession import __version__
from opensession.parsers import append_only
from opensession.parsers.append_only import STATE_FORMAT, IncrementalParse, resumable, state_key
from opensession.parsers.base import ParseResult
from opensession.parsers.registry import TOOLS, get_parser

CLAUDE_MAIN = "258c7280-ae70-4798-800f-63464d01a85d"
CODEX_ROLLOUT = "rollout-2026-02-23T12-47-42-019c8a53-a0dd-7130-bcd7-95445d84846a.jsonl"


def dumps(result: ParseResult) -> list[dict[str, object]]:
    return [session.model_dump() for session in result.sessions]


def half_written(corpus: Path, tool: str, target: Path) -> tuple[Path, bytes]:
    """A corpus log of ``tool`` (a Claude Code one with its sub-agents) copied into ``target``
    with its first half of lines only; returns it and the lines still to append."""
    if tool == "claude-code":
        source = corpus / "claude-code/spotter" / f"{CLAUDE_MAIN}.jsonl"
        shutil.copytree(source.with_suffix(""), target / CLAUDE_MAIN)
    else:
        source = corpus / "codex/localpush" / CODEX_ROLLOUT
    lines = source.read_bytes().splitlines(keepends=True)
    path = target / source.name
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    return path, b"".join(lines[len(lines) // 2 :])


def saved_half(corpus: Path, tool: str, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """``half_written``, parsed and saved: the log, its saved parse and the lines to append."""
    path, rest = half_written(corpus, tool, tmp_path)
    live = IncrementalParse(get_parser(tool), path)
    live.update()
    state = tmp_path / "state" / "log.pickle"
    live.save(state)
    return path, state, rest


def test_the_line_by_line_parsers_are_resumable_and_the_others_not() -> None:
    assert [tool for tool in TOOLS if resumable(get_parser(tool))] == ["claude-code", "codex"]


@pytest.mark.parametrize("tool", ["claude-code", "codex"])
def test_a_saved_parse_resumed_after_an_append_gives_the_full_parse(
    corpus: Path, tmp_path: Path, tool: str
) -> None:
    path, state, rest = saved_half(corpus, tool, tmp_path)
    offset = path.stat().st_size
    with path.open("ab") as stream:
        stream.write(rest)

    resumed = IncrementalParse.resume(get_parser(tool), path, state)
    assert resumed is not None
    assert resumed.cursor.offset == offset
    assert dumps(resumed.update()) == dumps(get_parser(tool).parse(path))
    assert resumed.cursor.offset == path.stat().st_size


def test_a_parse_saved_by_another_process_is_resumed(corpus: Path, tmp_path: Path) -> None:
    path, rest = half_written(corpus, "claude-code", tmp_path)
    state = tmp_path / "state.pickle"
    save = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from opensession.parsers.append_only import IncrementalParse
        from opensession.parsers.registry import get_parser

        live = IncrementalParse(get_parser("claude-code"), Path(sys.argv[1]))
        live.update()
        live.save(Path(sys.argv[2]))
        """
    )
    subprocess.run([sys.executable, "-c", save, str(path), str(state)], check=True)
    with path.open("ab") as stream:
        stream.write(rest)

    resumed = IncrementalParse.resume(get_parser("claude-code"), path, state)
    assert resumed is not None
    assert dumps(resumed.update()) == dumps(get_parser("claude-code").parse(path))


def test_a_resumed_parse_can_be_saved_and_resumed_again(corpus: Path, tmp_path: Path) -> None:
    path, state, rest = saved_half(corpus, "codex", tmp_path)
    middle = len(rest) // 2
    with path.open("ab") as stream:
        stream.write(rest[:middle])
    first = IncrementalParse.resume(get_parser("codex"), path, state)
    assert first is not None
    first.update()
    first.save(state)
    with path.open("ab") as stream:
        stream.write(rest[middle:])

    second = IncrementalParse.resume(get_parser("codex"), path, state)
    assert second is not None
    assert dumps(second.update()) == dumps(get_parser("codex").parse(path))


def rewrite_same_size(path: Path) -> None:
    """The log written anew in place (same inode), as long as before but not the same."""
    data = path.read_bytes()
    path.write_bytes(data.replace(CLAUDE_MAIN.encode(), CLAUDE_MAIN[::-1].encode()))
    assert len(path.read_bytes()) == len(data)


def rewrite_longer(path: Path) -> None:
    """The log written anew in place with other records, longer than what was read."""
    data = path.read_bytes()
    path.write_bytes(data[len(data) // 3 :] + data)


def replace_by_a_copy(path: Path) -> None:
    """The same bytes in a new file (another inode) renamed over the log."""
    copy = path.with_name("copy")
    shutil.copyfile(path, copy)
    copy.replace(path)


def truncate(path: Path) -> None:
    with path.open("r+b") as stream:
        stream.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize(
    "change",
    [rewrite_same_size, rewrite_longer, replace_by_a_copy, truncate],
    ids=lambda f: f.__name__,
)
def test_a_log_changed_other_than_by_appending_is_not_resumed(
    corpus: Path, tmp_path: Path, change: Callable[[Path], None]
) -> None:
    path, state, _ = saved_half(corpus, "claude-code", tmp_path)
    change(path)
    assert IncrementalParse.resume(get_parser("claude-code"), path, state) is None


def test_a_log_with_the_same_bytes_before_the_offset_is_resumed(
    corpus: Path, tmp_path: Path
) -> None:
    path, state, _ = saved_half(corpus, "claude-code", tmp_path)
    with path.open("r+b") as stream:  # written anew in place, identical: nothing to tell
        stream.write(path.read_bytes())
    assert IncrementalParse.resume(get_parser("claude-code"), path, state) is not None


def corrupt(state: Path) -> None:
    state.write_bytes(b"\x80\x05not a pickle at all")


def cut_short(state: Path) -> None:
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])


def empty(state: Path) -> None:
    state.write_bytes(b"")


def remove(state: Path) -> None:
    state.unlink()


def wrong_payload(state: Path) -> None:
    with state.open("rb") as stream:
        header = pickle.load(stream)
    with state.open("wb") as stream:
        pickle.dump(header, stream)
        pickle.dump(("not a cursor", "not a builder"), stream)


@pytest.mark.parametrize(
    "damage", [corrupt, cut_short, empty, remove, wrong_payload], ids=lambda f: f.__name__
)
def test_an_unreadable_saved_parse_is_not_resumed(
    corpus: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    path, state, _ = saved_half(corpus, "claude-code", tmp_path)
    damage(state)
    assert IncrementalParse.resume(get_parser("claude-code"), path, state) is None


def test_a_parse_saved_by_other_code_or_of_another_log_is_not_resumed(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, state, _ = saved_half(corpus, "claude-code", tmp_path)
    copy = path.with_name("copy.jsonl")
    shutil.copyfile(path, copy)
    assert IncrementalParse.resume(get_parser("claude-code"), copy, state) is None
    assert IncrementalParse.resume(get_parser("codex"), path, state) is None

    monkeypatch.setattr(append_only, "state_key", lambda: "another version")
    assert IncrementalParse.resume(get_parser("claude-code"), path, state) is None


def test_the_state_key_names_the_format_and_the_versions() -> None:
    key = state_key()
    assert key.startswith(f"{STATE_FORMAT}/opensession {__version__}/python ")
    assert "pydantic " in key


def test_a_failed_save_leaves_the_saved_parse_as_it_was(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, state, rest = saved_half(corpus, "claude-code", tmp_path)
    before = state.read_bytes()
    with path.open("ab") as stream:
        stream.write(rest)
    live = IncrementalParse.resume(get_parser("claude-code"), path, state)
    assert live is not None
    live.update()

    def refuse(*args: object, **kwargs: object) -> None:
        raise TypeError("cannot pickle 'generator' object")

    monkeypatch.setattr(pickle, "dump", refuse)
    with pytest.raises(TypeError):
        live.save(state)
    assert state.read_bytes() == before
    assert list(state.parent.iterdir()) == [state]
