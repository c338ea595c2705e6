"""``python -m opensession.daemon``: the daemon in the foreground (``daemon start`` runs this
detached, its output appended to the log file)."""

from __future__ import annotations

import logging
import sys

from opensession.config.settings import ConfigError
from opensession.daemon.process import DaemonError, DaemonFiles
from opensession.daemon.service import Daemon, configure_logging


def main() -> int:
    configure_logging()
    try:
        Daemon(DaemonFiles.default()).run()
    except (DaemonError, ConfigError) as exc:
        logging.getLogger("opensession.daemon").error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
