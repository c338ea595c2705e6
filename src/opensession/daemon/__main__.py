"""``python -m opensession.daemon [--log-file PATH]``: the daemon in the foreground, logging to
stderr or to the (rotated) log file; ``daemon start`` runs it detached with ``--log-file``, and
its stderr appended to the same file for what happens before logging is set up."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from opensession.config.settings import ConfigError
from opensession.daemon.process import DaemonError, DaemonFiles
from opensession.daemon.service import Daemon, configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opensession.daemon")
    parser.add_argument("--log-file", type=Path, help="log here (rotated), not to stderr")
    options = parser.parse_args(argv)
    configure_logging(options.log_file)
    try:
        Daemon(DaemonFiles.default()).run()
    except (DaemonError, ConfigError) as exc:
        logging.getLogger("opensession.daemon").error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
