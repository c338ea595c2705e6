"""The daemon's log file is rotated, so a daemon running for months keeps a bounded log."""

from __future__ import annotations

import logging
from pathlib import Path

from opensession.daemon.service import LOG_BACKUPS, log_file_handler


def test_the_log_file_is_rotated_keeping_a_bounded_number_of_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "daemon.log"
    logger = logging.getLogger("opensession.test-rotation")
    logger.propagate = False
    handler = log_file_handler(path, max_bytes=1_000)
    logger.addHandler(handler)
    try:
        for number in range(200):
            logger.warning("uploaded session-%04d (12 events)", number)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["daemon.log", *(f"daemon.log.{n}" for n in range(1, LOG_BACKUPS + 1))]
    assert all((tmp_path / name).stat().st_size <= 1_000 for name in files)
    assert path.read_text().splitlines()[-1].endswith("WARNING uploaded session-0199 (12 events)")
