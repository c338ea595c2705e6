"""opensession: collect, browse, hand off and share AI coding sessions."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opensession")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
