"""What several commands share: the local index, opened with its damage handled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from opensession.localdb.store import LocalIndex


@contextmanager
def open_index() -> Iterator[LocalIndex]:
    """The local index, open; damage found while reading it sets the file aside and ends the
    command with a one-line error saying how to rebuild it."""
    import sqlite3

    from opensession.localdb.store import LocalIndex, is_damaged

    opened = LocalIndex.open()
    if opened.warning:
        click.echo(f"warning: {opened.warning}", err=True)
    try:
        yield opened
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        aside = opened.set_aside()
        raise click.ClickException(
            f"the local index was damaged ({exc}); moved it to {aside}: "
            "run 'opensession index' to rebuild it"
        ) from None
    finally:
        opened.close()
