from __future__ import annotations

from opensession.hail import model as m
from opensession.hail.markdown import session_to_markdown

from .factories import event, session


def test_markdown_shows_facts_messages_commands_and_diffs() -> None:
    diff = "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-old\n+new\n"
    sample = session(
        [
            event(1, m.UserMessage(), text="Fix the failing test"),
            event(2, m.ShellCommand(data=m.ShellCommandData(command="pytest -q", exit_code=1))),
            event(3, m.FileEdit(data=m.FileEditData(path="app.py", diff=diff))),
            event(4, m.AgentMessage(), text="Fixed: `old` was wrong ```"),
        ],
        title="Fix tests",
    )
    text = session_to_markdown(sample)
    assert text.startswith("# Fix tests\n")
    assert "**Tool**: claude-code · **Model**: claude-opus-4 (anthropic)" in text
    assert "### User · 00:39:29\n\nFix the failing test" in text
    assert "### ShellCommand (exit 1)" in text
    assert "### FileEdit `app.py`" in text
    assert "```diff\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-old\n+new\n```" in text
    assert "Fixed: `old` was wrong ```" in text
    assert "+1 -1" in text


def test_code_containing_fences_gets_a_longer_fence() -> None:
    code = m.CodeBlock(code="```python\nx = 1\n```", language="markdown")
    sample = session([event(1, m.AgentMessage(), blocks=[code])])
    assert "````markdown\n```python\nx = 1\n```\n````" in session_to_markdown(sample)


def test_embedded_images_are_not_dumped_as_base64() -> None:
    image = m.ImageBlock(url="data:image/png;base64," + "A" * 5000, mime="image/png")
    sample = session([event(1, m.UserMessage(), blocks=[image])])
    text = session_to_markdown(sample)
    assert "*(embedded image/png image)*" in text
    assert "AAAA" not in text
