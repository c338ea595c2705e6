"""opensession: collect, browse, hand off and share AI coding sessions."""

# The one place the version is written (pyproject.toml reads it from here); a constant, since
# reading installed metadata costs a CLI called from hooks a third of its start-up.
__version__ = "0.1.0"
