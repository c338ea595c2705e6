"""opensession: collect, browse, hand off and share AI coding sessions."""

import logging

# The one place the version is written (pyproject.toml reads it from here); a constant, since
# reading installed metadata costs a CLI called from hooks a third of its start-up.
__version__ = "0.1.0"

# A library logs; the application decides where that goes. Without a handler, Python's last
# resort would print every warning to stderr beside the CLI's own message for it.
logging.getLogger("opensession").addHandler(logging.NullHandler())
