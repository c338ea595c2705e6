"""Inline sources: a file's content sent as base64 in the request."""

from __future__ import annotations

import base64
import re

from opensession.server.errors import ApiError, bad_request

_WHITESPACE = re.compile(r"\s+")


def too_large(limit: int) -> ApiError:
    """The 413 answer for a source over the server's ingest limit."""
    return ApiError(
        413,
        "source_too_large",
        f"the source is larger than the {limit} bytes this server previews",
    )


def decode_inline_content(content_base64: str, limit: int) -> bytes:
    """The bytes of ``content_base64`` (standard alphabet; line breaks allowed); 413 when they
    would exceed ``limit`` bytes, 400 when the text is not base64."""
    compact = _WHITESPACE.sub("", content_base64)
    # Every 4 base64 characters carry 3 bytes: refuse what is surely too large before decoding.
    if len(compact) > 4 * -(-limit // 3):
        raise too_large(limit)
    try:
        content = base64.b64decode(compact, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise bad_request(
            "source.content_base64: not base64 (standard alphabet, with padding)",
            code="invalid_source",
        ) from None
    if len(content) > limit:
        raise too_large(limit)
    return content
