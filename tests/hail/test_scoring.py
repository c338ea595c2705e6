"""Score plugins: the built-in scorers, the registry, and plugins installed as entry points."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opensession.hail.model import (
    Agent,
    AgentMessage,
    Context,
    Event,
    HailModel,
    Session,
    ShellCommand,
    ShellCommandData,
    ToolResult,
    ToolResultData,
    UserMessage,
)
from opensession.hail.scoring import (
    DEFAULT_SCORE_PLUGIN,
    UnknownScorePluginError,
    available_score_plugins,
    get_score_plugin,
    score_session,
)

_START = datetime(2026, 2, 21, 9, 0, tzinfo=UTC)

Step = tuple[HailModel, str | None]


def make_session(*steps: Step) -> Session:
    """A session whose events are one second apart, each from an event type and a task id."""
    events = [
        Event(
            event_id=f"e{index}",
            timestamp=_START + timedelta(seconds=index),
            event_type=kind,
            task_id=task_id,
        )
        for index, (kind, task_id) in enumerate(steps)
    ]
    return Session(
        session_id="score-test",
        agent=Agent(provider="anthropic", model="claude-sonnet-4", tool="claude-code"),
        context=Context(created_at=_START, updated_at=_START),
        events=events,
    )


def shell(exit_code: int | None, task_id: str | None = None) -> Step:
    return ShellCommand(data=ShellCommandData(command="pytest", exit_code=exit_code)), task_id


def tool_result(is_error: bool, task_id: str | None = None) -> Step:
    return ToolResult(data=ToolResultData(name="Bash", is_error=is_error)), task_id


def heuristic(*steps: Step) -> int:
    return score_session(make_session(*steps), "heuristic_v1")


CLEAN = (
    (UserMessage(), None),
    shell(0),
    tool_result(False),
    (AgentMessage(), None),
)


# --- heuristic_v1 ---


def test_a_clean_session_scores_100() -> None:
    assert heuristic(*CLEAN) == 100


def test_an_empty_session_scores_100() -> None:
    assert heuristic() == 100


def test_a_shell_command_without_exit_code_is_not_a_failure() -> None:
    assert heuristic(shell(None)) == 100


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(1, 80), (2, 75), (6, 55), (9, 55)],  # -15 for errors, then -5 each down to -30
)
def test_failed_shell_commands_cost_5_each_capped_at_30(failures: int, expected: int) -> None:
    assert heuristic(*[shell(1)] * failures) == expected


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(1, 81), (2, 77), (5, 65), (8, 65)],  # -15 for errors, then -4 each down to -20
)
def test_tool_errors_cost_4_each_capped_at_20(failures: int, expected: int) -> None:
    assert heuristic(*[tool_result(True)] * failures) == expected


def test_the_error_penalty_applies_once_and_all_caps_together_bottom_at_35() -> None:
    assert heuristic(*[shell(2)] * 10, *[tool_result(True)] * 10) == 35


def test_a_later_success_in_the_same_task_is_a_recovery() -> None:
    # 100 - 15 (errors) - 5 (shell failure) + 5 (recovery): the reference's own example.
    assert heuristic(shell(101, "t1"), shell(0, "t1")) == 85


def test_a_tool_error_recovered_by_a_shell_success_counts() -> None:
    assert heuristic(tool_result(True, "t1"), shell(0, "t1")) == 86


def test_events_without_task_id_form_one_task_for_recoveries() -> None:
    assert heuristic(shell(1), tool_result(False)) == 85


def test_a_success_in_another_task_is_not_a_recovery() -> None:
    assert heuristic(shell(1, "t1"), shell(0, "t2"), shell(0)) == 80


def test_a_success_before_the_failure_is_not_a_recovery() -> None:
    assert heuristic(shell(0, "t1"), shell(1, "t1")) == 80


def test_a_shell_command_without_exit_code_does_not_recover() -> None:
    assert heuristic(shell(1), shell(None)) == 80


def test_each_failure_is_recovered_at_most_once() -> None:
    assert heuristic(shell(1), shell(0), shell(0), tool_result(False)) == 85


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([shell(1), shell(1), shell(0)], 80, id="two-failures-one-success"),
        pytest.param([shell(1), shell(1), shell(0), shell(0)], 85, id="two-failures-two-successes"),
        pytest.param([shell(1), shell(0), shell(1), shell(0)], 85, id="fail-fix-fail-fix"),
    ],
)
def test_every_unrecovered_failure_can_be_recovered(steps: list[Step], expected: int) -> None:
    assert heuristic(*steps) == expected


def test_recoveries_earn_5_each_capped_at_20() -> None:
    # 6 fail/fix pairs: -15 - 30 (shell cap) + 20 (recovery cap, not +30).
    assert heuristic(*[shell(1), shell(0)] * 6) == 75
    # 3 fail/fix pairs: -15 - 15 + 15.
    assert heuristic(*[shell(1), shell(0)] * 3) == 85


# --- zero_v1, the registry and the default ---


def test_zero_v1_scores_every_session_0() -> None:
    assert score_session(make_session(*CLEAN), "zero_v1") == 0


def test_the_default_plugin_is_heuristic_v1() -> None:
    session = make_session(shell(1))
    assert DEFAULT_SCORE_PLUGIN == "heuristic_v1"
    assert score_session(session) == 80
    assert get_score_plugin(DEFAULT_SCORE_PLUGIN).name == "heuristic_v1"


def test_available_plugins_are_sorted_and_include_the_built_ins() -> None:
    names = available_score_plugins()
    assert {"heuristic_v1", "zero_v1"} <= set(names)
    assert names == sorted(names)


def test_an_unknown_plugin_is_an_error_naming_it_and_listing_the_others() -> None:
    with pytest.raises(UnknownScorePluginError) as caught:
        score_session(make_session(*CLEAN), "no_such_plugin")
    message = str(caught.value)
    assert "'no_such_plugin'" in message
    assert "heuristic_v1" in message
    assert "zero_v1" in message
    assert isinstance(caught.value, ValueError)
    assert caught.value.available == available_score_plugins()


# --- plugins installed through the opensession.score_plugins entry-point group ---

_PLUGIN_MODULE = """
class ConstantPlugin:
    name = "constant_v1"

    def score(self, session):
        return 42


class EventCountPlugin:
    name = "event_count_v1"

    def score(self, session):
        return len(session.events)


def make_event_count_plugin():
    return EventCountPlugin()


INSTANCE = EventCountPlugin()
NOT_A_PLUGIN = "just a string"
"""

_ENTRY_POINTS = """
[opensession.score_plugins]
constant_v1 = my_test_plugin:ConstantPlugin
factory_v1 = my_test_plugin:make_event_count_plugin
instance_v1 = my_test_plugin:INSTANCE
broken_v1 = my_test_plugin:NOT_A_PLUGIN
zero_v1 = my_test_plugin:ConstantPlugin
"""


def install_plugin_distribution(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution declaring score plugins, put on ``sys.path`` until ``monkeypatch`` undoes."""
    (directory / "my_test_plugin.py").write_text(textwrap.dedent(_PLUGIN_MODULE))
    dist_info = directory / "my_test_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: my-test-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(_ENTRY_POINTS)
    monkeypatch.syspath_prepend(directory)
    monkeypatch.delitem(sys.modules, "my_test_plugin", raising=False)


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test plugin distribution, installed for this test only."""
    install_plugin_distribution(tmp_path, monkeypatch)


@pytest.mark.usefixtures("installed_plugin")
def test_an_installed_plugin_class_is_found_and_scores() -> None:
    plugin = get_score_plugin("constant_v1")
    assert plugin.name == "constant_v1"
    assert plugin.score(make_session(shell(1))) == 42
    assert score_session(make_session(*CLEAN), "constant_v1") == 42


@pytest.mark.usefixtures("installed_plugin")
@pytest.mark.parametrize("name", ["factory_v1", "instance_v1"])
def test_an_installed_plugin_can_be_a_factory_or_an_instance(name: str) -> None:
    assert score_session(make_session(*CLEAN), name) == len(CLEAN)


@pytest.mark.usefixtures("installed_plugin")
def test_installed_plugins_are_listed_once_with_the_built_ins() -> None:
    names = available_score_plugins()
    assert names == sorted(names)
    # Listing reads names only: the broken entry point is listed without being loaded.
    installed = {"constant_v1", "factory_v1", "instance_v1", "broken_v1"}
    assert installed | {"heuristic_v1", "zero_v1"} <= set(names)
    assert names.count("zero_v1") == 1


@pytest.mark.usefixtures("installed_plugin")
def test_an_installed_plugin_cannot_replace_a_built_in() -> None:
    assert score_session(make_session(*CLEAN), "zero_v1") == 0


@pytest.mark.usefixtures("installed_plugin")
def test_the_unknown_plugin_error_lists_installed_plugins() -> None:
    with pytest.raises(UnknownScorePluginError, match="constant_v1"):
        get_score_plugin("no_such_plugin")


@pytest.mark.usefixtures("installed_plugin")
def test_an_entry_point_that_is_not_a_plugin_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"'broken_v1' \(my_test_plugin:NOT_A_PLUGIN\)"):
        get_score_plugin("broken_v1")


def test_a_plugin_is_gone_once_its_distribution_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as installed:
        install_plugin_distribution(tmp_path, installed)
        assert "constant_v1" in available_score_plugins()
        assert get_score_plugin("constant_v1").name == "constant_v1"
    assert "constant_v1" not in available_score_plugins()
    with pytest.raises(UnknownScorePluginError):
        get_score_plugin("constant_v1")
