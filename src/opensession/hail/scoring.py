"""Session scores from pluggable scorers, with the reference implementation's built-ins.

Two scorers are built in: ``heuristic_v1`` (the default) and ``zero_v1``. Other packages add
their own through the ``opensession.score_plugins`` entry-point group; the entry-point name is
the plugin's name, and its value is either an object satisfying :class:`ScorePlugin` or a class
or zero-argument callable that returns one::

    # pyproject.toml of the package providing the plugin
    [project.entry-points."opensession.score_plugins"]
    my_plugin = "my_pkg.scoring:MyPlugin"

    # my_pkg/scoring.py
    class MyPlugin:
        name = "my_plugin"

        def score(self, session: Session) -> int:
            return len(session.events)

Once that package is installed, ``score_session(session, "my_plugin")`` uses it. Entry points are
only read when a name is not built in or when the plugins are listed; a built-in name always
means the built-in plugin.
"""

from __future__ import annotations

from collections import Counter
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, runtime_checkable

from opensession.hail.metrics import has_errors, is_failure, is_success, task_lane
from opensession.hail.model import Session, ShellCommand

ENTRY_POINT_GROUP = "opensession.score_plugins"
DEFAULT_SCORE_PLUGIN = "heuristic_v1"


@runtime_checkable
class ScorePlugin(Protocol):
    """A scorer: maps one session to one integer score."""

    name: str

    def score(self, session: Session) -> int:
        """The session's score."""
        ...


class UnknownScorePluginError(ValueError):
    """No plugin has the requested name; the message lists the ones that exist."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        super().__init__(f"unknown score plugin {name!r}; available: {', '.join(available)}")


class HeuristicV1Plugin:
    """Starts at 100 and takes points off for failures, giving some back for recoveries.

    -15 if the session has any error; -5 per shell command that exited non-zero (at most -30);
    -4 per tool result that is an error (at most -20); +5 per recovery (at most +20); the result
    is clamped to 0-100. A recovery is a success (a tool result that is not an error, a shell
    command that exited 0) in the same task as an earlier failure not yet recovered; events
    without a task id form one task.
    """

    name = "heuristic_v1"

    def score(self, session: Session) -> int:
        """The session's heuristic score, 0-100."""
        shell_failures = tool_errors = recoveries = 0
        unrecovered: Counter[str | None] = Counter()
        for event in session.events:
            lane = task_lane(event)
            if is_failure(event):
                if isinstance(event.event_type, ShellCommand):
                    shell_failures += 1
                else:
                    tool_errors += 1
                unrecovered[lane] += 1
            elif is_success(event) and unrecovered[lane]:
                unrecovered[lane] -= 1
                recoveries += 1
        score = 100
        if has_errors(session.events):
            score -= 15
        score -= min(5 * shell_failures, 30)
        score -= min(4 * tool_errors, 20)
        score += min(5 * recoveries, 20)
        return max(0, min(100, score))


class ZeroV1Plugin:
    """Scores every session 0: a fixed point for tests and compatibility checks."""

    name = "zero_v1"

    def score(self, session: Session) -> int:
        """Always 0."""
        return 0


_BUILTIN_PLUGINS: dict[str, ScorePlugin] = {
    plugin.name: plugin for plugin in (HeuristicV1Plugin(), ZeroV1Plugin())
}


def _registered_entry_points() -> dict[str, EntryPoint]:
    """Entry points of the plugin group by name; the first one on ``sys.path`` wins a tie."""
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return found


def _load_plugin(entry_point: EntryPoint) -> ScorePlugin:
    """The plugin an entry point names, instantiating a class or calling a factory."""
    target = entry_point.load()
    if isinstance(target, type) or (callable(target) and not isinstance(target, ScorePlugin)):
        target = target()
    if not isinstance(target, ScorePlugin):
        raise TypeError(
            f"score plugin {entry_point.name!r} ({entry_point.value}) has no `name` and "
            "`score(session)`"
        )
    return target


def available_score_plugins() -> list[str]:
    """Names of the built-in and installed score plugins, sorted."""
    return sorted(_BUILTIN_PLUGINS.keys() | _registered_entry_points().keys())


def get_score_plugin(name: str) -> ScorePlugin:
    """The plugin called ``name``: a built-in, else an installed entry point.

    Raises UnknownScorePluginError when there is none, and TypeError when the entry point does
    not name a plugin.
    """
    if name in _BUILTIN_PLUGINS:
        return _BUILTIN_PLUGINS[name]
    entry_point = _registered_entry_points().get(name)
    if entry_point is None:
        raise UnknownScorePluginError(name, available_score_plugins())
    return _load_plugin(entry_point)


def score_session(session: Session, plugin_name: str = DEFAULT_SCORE_PLUGIN) -> int:
    """The session's score by the named plugin (``heuristic_v1`` unless told otherwise)."""
    return get_score_plugin(plugin_name).score(session)
