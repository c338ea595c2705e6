"""The line of tabs at the top of the Sessions and Settings views."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

TABS: tuple[tuple[str, str], ...] = (("1", "Sessions"), ("2", "Handoff"), ("3", "Settings"))
"""(key, name) of each tab, in order."""


class TabBar(Widget):
    """The tabs, the shown one highlighted, and on the right the work under way (``busy``)."""

    busy: reactive[str] = reactive("")

    def __init__(self, active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = active

    def render(self) -> Content:
        parts: list[Content | tuple[str, str] | str] = [("opensession ", "bold")]
        for key, name in TABS:
            style = "$block-cursor-foreground on $block-cursor-background bold"
            parts.append((f" {key} {name} ", style if name == self.active else "$text-muted"))
        tabs = Content.assemble(*parts)
        if not self.busy:
            return tabs
        busy = Content.styled(f"⟳ {self.busy}", "$accent bold")
        gap = max(self.size.width - tabs.cell_length - busy.cell_length, 1)
        return Content.assemble(tabs, " " * gap, busy)
