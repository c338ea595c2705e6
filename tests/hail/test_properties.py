"""Property tests: any session survives write -> read unchanged; stats recompute is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from opensession.hail import model as m
from opensession.hail.jsonl import dumps_session, read_session
from opensession.hail.stats import compute_stats

text = st.text(max_size=40)
name = st.text(min_size=1, max_size=12)
maybe = st.none() | text
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))

event_types = st.one_of(
    st.sampled_from([m.UserMessage(), m.AgentMessage(), m.SystemMessage(), m.Thinking()]),
    st.builds(m.ToolCall, data=st.builds(m.NameData, name=name)),
    st.builds(
        m.ToolResult,
        data=st.builds(m.ToolResultData, name=name, is_error=st.booleans(), call_id=maybe),
    ),
    st.builds(m.FileRead, data=st.builds(m.PathData, path=name)),
    st.builds(m.CodeSearch, data=st.builds(m.QueryData, query=text)),
    st.builds(m.FileSearch, data=st.builds(m.PatternData, pattern=text)),
    st.builds(m.FileEdit, data=st.builds(m.FileEditData, path=name, diff=maybe)),
    st.builds(m.FileCreate, data=st.builds(m.PathData, path=name)),
    st.builds(m.FileDelete, data=st.builds(m.PathData, path=name)),
    st.builds(
        m.ShellCommand,
        data=st.builds(
            m.ShellCommandData, command=text, exit_code=st.none() | st.integers(-255, 255)
        ),
    ),
    st.builds(m.ImageGenerate, data=st.builds(m.PromptData, prompt=text)),
    st.builds(m.VideoGenerate, data=st.builds(m.PromptData, prompt=text)),
    st.builds(m.AudioGenerate, data=st.builds(m.PromptData, prompt=text)),
    st.builds(m.WebSearch, data=st.builds(m.QueryData, query=text)),
    st.builds(m.WebFetch, data=st.builds(m.UrlData, url=text)),
    st.builds(m.TaskStart, data=st.builds(m.TaskStartData, title=maybe)),
    st.builds(m.TaskEnd, data=st.builds(m.TaskEndData, summary=maybe)),
    st.builds(m.Custom, data=st.builds(m.CustomData, kind=name)),
    st.builds(
        lambda tag, data: m.UnknownEventType(type=tag, data=data),
        st.sampled_from(["Hologram", "Teleport"]),
        json_values,
    ),
)

blocks = st.one_of(
    st.builds(m.TextBlock, text=text),
    st.builds(m.CodeBlock, code=text, language=maybe, start_line=st.none() | st.integers(0, 10**6)),
    st.builds(m.ImageBlock, url=text, alt=maybe, mime=name),
    st.builds(m.VideoBlock, url=text, mime=name),
    st.builds(m.AudioBlock, url=text, mime=name),
    st.builds(m.FileBlock, path=name, content=maybe),
    st.builds(m.JsonBlock, data=json_values),
    st.builds(m.ReferenceBlock, uri=text, media_type=name),
    st.builds(lambda payload: m.UnknownBlock(type="Sketch", strokes=payload), json_values),
)

attributes = st.dictionaries(
    st.sampled_from(["input_tokens", "output_tokens", "input_tokens_total", "source", "x.y"]),
    json_values,
    max_size=3,
)


@st.composite
def events(draw: st.DrawFn) -> list[m.Event]:
    count = draw(st.integers(0, 8))
    start = draw(timestamps)
    result = []
    for index in range(count):
        result.append(
            m.Event(
                event_id=f"e{index}",
                timestamp=start + timedelta(milliseconds=draw(st.integers(0, 10**7))),
                event_type=draw(event_types),
                task_id=draw(st.none() | st.sampled_from(["t1", "t2"])),
                content=m.Content(blocks=draw(st.lists(blocks, max_size=3))),
                duration_ms=draw(st.none() | st.integers(0, 10**9)),
                attributes=draw(attributes),
            )
        )
    return result


sessions = st.builds(
    m.Session,
    session_id=name,
    agent=st.builds(m.Agent, provider=name, model=text, tool=name, tool_version=maybe),
    context=st.builds(
        m.Context,
        title=maybe,
        description=maybe,
        tags=st.lists(text, max_size=3),
        created_at=timestamps,
        updated_at=timestamps,
        related_session_ids=st.lists(name, max_size=2),
        attributes=st.dictionaries(text, json_values, max_size=3),
    ),
    events=events(),
    stats=st.builds(
        m.Stats, event_count=st.integers(0, 100), total_input_tokens=st.integers(0, 10**9)
    ),
)


@settings(max_examples=200, deadline=None)
@given(sessions)
def test_any_session_survives_write_then_read(session: m.Session) -> None:
    assert read_session_from_bytes(dumps_session(session)) == session


@settings(max_examples=200, deadline=None)
@given(events())
def test_stats_recompute_is_idempotent(generated: list[m.Event]) -> None:
    first = compute_stats(generated)
    reread = read_session_from_bytes(
        dumps_session(
            m.Session(
                session_id="s",
                agent=m.Agent(provider="p", model="m", tool="t"),
                context=m.Context(
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                ),
                events=generated,
                stats=first,
            )
        )
    )
    assert compute_stats(reread.events) == first == reread.stats


def read_session_from_bytes(data: bytes) -> m.Session:
    import io

    return read_session(io.BytesIO(data), strict=True)
