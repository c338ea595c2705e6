"""The terminal UI (Textual): ``opensession`` opens it on every session, ``opensession .`` on
the current repository's."""
