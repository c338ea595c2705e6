"""The documentation served at ``/docs`` and the summary at ``/llms.txt``.

The source is markdown kept beside this module: ``chapters/index.md`` (the page's title and
introduction) and one ``chapters/NN-name.md`` per chapter, each opening with a ``## title`` and
a one-paragraph summary, its sections under ``###``. It is rendered once into the parts of an
HTML page (the web UI's ``docs.html``: chapter cards and a table of contents); the markdown
source is the files joined in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_CHAPTER_FILE = re.compile(r"\d\d-[a-z-]+\.md")
_PAGE_IDS = ("main", "contents", "chapters")
"""Element ids of the page template itself (and its base), never given to a heading."""


@dataclass(frozen=True)
class Section:
    """A ``###`` heading of a chapter: a table-of-contents entry."""

    slug: str
    title: str


@dataclass(frozen=True)
class Chapter:
    number: int
    slug: str
    title: str
    summary: Markup
    sections: list[Section]
    html: Markup


@dataclass(frozen=True)
class Documentation:
    title: str
    introduction: Markup
    chapters: list[Chapter]
    markdown: str


@dataclass(frozen=True)
class RouteSummary:
    """One API route as ``/llms.txt`` lists it."""

    method: str
    path: str
    summary: str


class _Slugs:
    """Heading ids, unique over the whole page."""

    def __init__(self) -> None:
        self._taken = set(_PAGE_IDS)

    def new(self, text: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
        slug, number = base, 2
        while slug in self._taken:
            slug, number = f"{base}-{number}", number + 1
        self._taken.add(slug)
        return slug


_templates = Environment(
    loader=PackageLoader(__name__, "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@cache
def documentation() -> Documentation:
    """The chapters, read and rendered once per process."""
    folder = files(__name__) / "chapters"
    introduction = (folder / "index.md").read_text("utf-8")
    sources = sorted(
        (entry.name, entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if _CHAPTER_FILE.fullmatch(entry.name)
    )
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    slugs = _Slugs()
    tokens = markdown.parse(introduction)
    if not tokens or tokens[0].tag != "h1":
        raise ValueError("chapters/index.md must open with a '# title'")
    chapters = [
        _chapter(markdown, number, name, text, slugs)
        for number, (name, text) in enumerate(sources, start=1)
    ]
    return Documentation(
        title=_plain(tokens[1]),
        introduction=Markup(markdown.renderer.render(tokens[3:], markdown.options, {})),
        chapters=chapters,
        markdown="\n".join([introduction, *(text for _, text in sources)]),
    )


def llms_txt(routes: list[RouteSummary], capabilities: dict[str, object]) -> str:
    """The plain-text summary for language models: what the server is, its routes, and what this
    deployment offers."""
    return _templates.get_template("llms.txt").render(
        docs=documentation(), routes=routes, capabilities=capabilities
    )


def _chapter(markdown: MarkdownIt, number: int, name: str, text: str, slugs: _Slugs) -> Chapter:
    tokens = markdown.parse(text)
    if len(tokens) < 5 or tokens[0].tag != "h2" or tokens[3].type != "paragraph_open":
        raise ValueError(f"chapters/{name} must open with a '## title' and a summary paragraph")
    sections = []
    for position, token in enumerate(tokens):
        if token.type == "heading_open":
            title = _plain(tokens[position + 1])
            token.attrSet("id", slugs.new(title))
            if token.tag == "h3":
                sections.append(Section(str(token.attrGet("id")), title))
    summary = markdown.renderer.renderInline(tokens[4].children or [], markdown.options, {})
    return Chapter(
        number=number,
        slug=str(tokens[0].attrGet("id")),
        title=_plain(tokens[1]),
        summary=Markup(summary),
        sections=sections,
        html=Markup(markdown.renderer.render(tokens, markdown.options, {})),
    )


def _plain(inline: Token) -> str:
    """An inline token's text without its markup (a heading's, for its title and id)."""
    return "".join(child.content for child in inline.children or []).strip()
