from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from opensession.hail.errors import describe_validation_error
from opensession.hail.model import (
    Context,
    Event,
    FileEdit,
    FileEditData,
    ShellCommand,
    ShellCommandData,
    TaskStart,
    ToolResult,
    UnknownBlock,
    UnknownEventType,
    UserMessage,
)

from .factories import START, event


def wire(model: Event) -> dict:
    return orjson.loads(model.model_dump_json())


def test_unit_variants_have_no_data_and_empty_struct_variants_write_empty_data() -> None:
    assert wire(event(1, UserMessage()))["event_type"] == {"type": "UserMessage"}
    assert wire(event(1, TaskStart()))["event_type"] == {"type": "TaskStart", "data": {}}


def test_optional_fields_are_omitted_when_absent() -> None:
    record = wire(event(1, ShellCommand(data=ShellCommandData(command="ls"))))
    assert record["event_type"] == {"type": "ShellCommand", "data": {"command": "ls"}}
    assert "task_id" not in record
    assert "duration_ms" not in record
    assert "attributes" not in record


def test_unknown_event_type_and_block_from_a_newer_writer_round_trip_unchanged() -> None:
    record = {
        "event_id": "e1",
        "timestamp": "2026-02-21T00:39:28.356Z",
        "event_type": {"type": "Hologram", "data": {"depth": 3, "layers": [{"a": None}]}},
        "content": {
            "blocks": [{"type": "Hologram3D", "voxels": [1, 2]}, {"type": "Text", "text": "x"}]
        },
        "future_field": {"kept": True},
    }
    parsed = Event.model_validate(record)
    assert isinstance(parsed.event_type, UnknownEventType)
    assert parsed.event_type.type == "Hologram"
    assert isinstance(parsed.content.blocks[0], UnknownBlock)
    assert orjson.loads(parsed.model_dump_json()) == record


def test_new_fields_inside_a_known_variant_are_kept() -> None:
    record = {
        "event_id": "e1",
        "timestamp": "2026-02-21T00:39:28.356Z",
        "event_type": {"type": "ToolCall", "data": {"name": "Read", "input": {"path": "a"}}},
        "content": {"blocks": []},
    }
    assert orjson.loads(Event.model_validate(record).model_dump_json()) == record


def test_malformed_known_variant_is_an_error_naming_the_field() -> None:
    record = {
        "event_id": "e1",
        "timestamp": "2026-02-21T00:39:28.356Z",
        "event_type": {"type": "FileEdit", "data": {"diff": "+x"}},
    }
    with pytest.raises(ValidationError) as caught:
        Event.model_validate(record)
    message = describe_validation_error(caught.value)
    assert message == "event_type.FileEdit.data.path: Field required"


def test_malformed_known_block_is_an_error() -> None:
    record = {
        "event_id": "e1",
        "timestamp": "2026-02-21T00:39:28.356Z",
        "event_type": {"type": "UserMessage"},
        "content": {"blocks": [{"type": "Text", "txt": "typo"}]},
    }
    with pytest.raises(ValidationError) as caught:
        Event.model_validate(record)
    assert describe_validation_error(caught.value) == "content.blocks.0.Text.text: Field required"


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("2026-02-21T00:39:28.356Z", "2026-02-21T00:39:28.356Z"),
        ("2026-02-21T09:39:28.356+09:00", "2026-02-21T00:39:28.356Z"),
        ("2026-02-20T19:39:28-05:00", "2026-02-21T00:39:28.000Z"),
        ("2026-02-21T00:39:28.356789123Z", "2026-02-21T00:39:28.356Z"),
        ("2026-02-21T00:39:28.3Z", "2026-02-21T00:39:28.300Z"),
    ],
)
def test_timestamps_accept_any_offset_and_precision_and_write_utc_milliseconds(
    given: str, written: str
) -> None:
    record = {"event_id": "e", "timestamp": given, "event_type": {"type": "UserMessage"}}
    assert wire(Event.model_validate(record))["timestamp"] == written


def test_a_timestamp_without_offset_is_refused() -> None:
    record = {
        "event_id": "e",
        "timestamp": "2026-02-21T00:39:28",
        "event_type": {"type": "Thinking"},
    }
    with pytest.raises(ValidationError) as caught:
        Event.model_validate(record)
    assert describe_validation_error(caught.value).startswith("timestamp: ")


def test_event_text_joins_text_blocks() -> None:
    one = Event.model_validate(
        {
            "event_id": "e",
            "timestamp": START,
            "event_type": {"type": "AgentMessage"},
            "content": {
                "blocks": [
                    {"type": "Text", "text": "first"},
                    {"type": "Code", "code": "x = 1"},
                    {"type": "Text", "text": "second"},
                ]
            },
        }
    )
    assert one.text() == "first\n\nsecond"


@pytest.mark.parametrize(
    ("attributes", "related", "auxiliary"),
    [
        ({}, [], False),
        ({"session_role": "auxiliary"}, [], True),
        ({"session_role": "primary"}, ["other"], False),
        ({}, ["parent-id"], True),
        ({"parent_session_id": "p"}, [], True),
    ],
)
def test_auxiliary_sessions_follow_role_then_related_then_parent(
    attributes: dict, related: list[str], auxiliary: bool
) -> None:
    context = Context(
        created_at=START, updated_at=START, attributes=attributes, related_session_ids=related
    )
    assert context.is_auxiliary is auxiliary


def test_file_edit_and_tool_result_fields_live_under_data() -> None:
    edit = FileEdit(data=FileEditData(path="src/a.py", diff="@@\n-a\n+b\n"))
    result = ToolResult.model_validate(
        {"data": {"name": "Bash", "is_error": True, "call_id": "c1"}}
    )
    assert wire(event(1, edit))["event_type"]["data"] == {
        "path": "src/a.py",
        "diff": "@@\n-a\n+b\n",
    }
    assert wire(event(2, result))["event_type"]["data"] == {
        "name": "Bash",
        "is_error": True,
        "call_id": "c1",
    }
