"""Session bodies on disk, stored once per content: ``<sha256>.jsonl.gz`` under the data dir.

The key is the sha256 of the uncompressed body, so uploading the same body twice stores it once.
Files are written to a temporary name and renamed, so a reader never sees half a body and two
processes writing the same body at once both succeed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
from pathlib import Path

_KEY = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, body: bytes) -> str:
        """Store ``body`` (if not stored yet); its key."""
        key = hashlib.sha256(body).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(gzip.compress(body, compresslevel=6, mtime=0))
                Path(temporary).replace(path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return key

    def get(self, key: str) -> bytes:
        """The body stored under ``key`` (FileNotFoundError when there is none)."""
        return gzip.decompress(self._path(key).read_bytes())

    def delete(self, key: str) -> None:
        """Forget the body under ``key`` (nothing happens when there is none)."""
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        # Keys come from our own database, but a path is only ever built from a well-formed one.
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / f"{key}.jsonl.gz"
