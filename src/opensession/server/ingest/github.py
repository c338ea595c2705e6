"""GitHub sources: one file fetched from ``{github_raw_base}/{owner}/{repo}/{ref}/{path}``.

The fetch can reach nothing else. Every part of the location is checked (no empty or dot-only
segments, a plain character set) and URL-quoted segment by segment, so it stays inside that
path; redirects are not followed; the host is resolved first and refused when any of its
addresses is not public (loopback, private, link-local … — server-side request forgery), and the
connection then goes to the address that was checked, so a second lookup cannot swap it. The
body is read up to ``ingest_max_bytes`` and the whole fetch, lookup included, gets
``ingest_timeout_seconds``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from opensession import __version__
from opensession.server.errors import ApiError, bad_request
from opensession.server.ingest.inline import too_large
from opensession.server.settings import ServerSettings

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_REF_SEGMENT = re.compile(r"[\w.+@-]{1,255}")
_PATH_SEGMENT = re.compile(r"[\w .,+=@~()\[\]!&'-]{1,255}")
_MAX_REF = 255
_MAX_PATH = 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class GithubFile:
    """A file at a ref of a GitHub repository, its parts already checked."""

    owner: str
    repo: str
    ref: str
    path: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def raw_url(self, base: str) -> str:
        """The file's address under ``base`` (``https://raw.githubusercontent.com``)."""
        parts = [self.owner, self.repo, *self.ref.split("/"), *self.path.split("/")]
        return base.rstrip("/") + "/" + "/".join(quote(part, safe="") for part in parts)


def github_file(owner: str, repo: str, ref: str, path: str) -> GithubFile:
    """The checked location; 400 ``invalid_source`` naming the first part that is not usable."""
    if not _OWNER.fullmatch(owner):
        raise _invalid("owner", "a GitHub user or organisation name (letters, digits, '-')")
    if not _REPO.fullmatch(repo) or _only_dots(repo):
        raise _invalid("repo", "a repository name (letters, digits, '.', '_', '-')")
    if not _segments_match(ref, _REF_SEGMENT, _MAX_REF):
        raise _invalid("ref", "a branch, tag or commit: '/'-separated names, no '..'")
    if not _segments_match(path, _PATH_SEGMENT, _MAX_PATH):
        raise _invalid("path", "a file path in the repository: 'dir/file.jsonl', no '..'")
    return GithubFile(owner, repo, ref, path)


def _invalid(field: str, expected: str) -> ApiError:
    return bad_request(f"source.{field}: expected {expected}", code="invalid_source")


def _only_dots(segment: str) -> bool:
    return not segment.strip(".")


def _segments_match(value: str, segment: re.Pattern[str], limit: int) -> bool:
    if not value or len(value) > limit:
        return False
    return all(
        segment.fullmatch(part) and not _only_dots(part) and part == part.strip()
        for part in value.split("/")
    )


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a globally routable unicast address, also when it is an IPv6 form
    of an IPv4 address (mapped, 6to4, Teredo, NAT64), which must then be public too."""
    ip = ipaddress.ip_address(address)
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        addresses += [found for found in (ip.ipv4_mapped, ip.sixtofour) if found is not None]
        addresses += list(ip.teredo or ())
        if ip in _NAT64:
            addresses.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(found.is_global and not found.is_multicast for found in addresses)


async def fetch_github_file(file: GithubFile, settings: ServerSettings) -> bytes:
    """The file's bytes. Refusals and failures are ApiErrors: 403 ``host_not_allowed``, 404
    ``source_not_found``, 413 ``source_too_large``, 422 ``redirect_refused`` or
    ``fetch_failed``, 504 ``fetch_timeout``."""
    url = httpx.URL(file.raw_url(settings.github_raw_base))
    seconds = settings.ingest_timeout_seconds
    try:
        async with asyncio.timeout(seconds):
            address = await _checked_address(url, settings.ingest_allow_private_hosts)
            return await _download(url, address, file, settings.ingest_max_bytes, seconds)
    except (TimeoutError, httpx.TimeoutException):
        raise ApiError(
            504, "fetch_timeout", f"{url.host} did not answer within {seconds:g} seconds"
        ) from None


async def _checked_address(url: httpx.URL, allow_private: bool) -> str:
    """The address to connect to for ``url``'s host, after checking every address it has."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise ApiError(422, "fetch_failed", f"cannot resolve {url.host}: {exc.strerror}") from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise ApiError(422, "fetch_failed", f"cannot resolve {url.host}: no address")
    refused = [address for address in addresses if not is_public_address(address)]
    if refused and not allow_private:
        raise ApiError(
            403,
            "host_not_allowed",
            f"{url.host} resolves to {refused[0]}, which is not a public address; not fetched",
        )
    return addresses[0]


async def _download(
    url: httpx.URL, address: str, file: GithubFile, limit: int, seconds: float
) -> bytes:
    headers = {
        "Host": url.netloc.decode("ascii"),
        # Counted bytes are the bytes sent: no compressed body that inflates past the limit.
        "Accept-Encoding": "identity",
        "User-Agent": f"opensession/{__version__} (ingest preview)",
    }
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    request_url = url.copy_with(host=address)
    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=seconds
    ) as client:
        try:
            async with client.stream(
                "GET", request_url, headers=headers, extensions=extensions
            ) as response:
                _check_status(response, url, file)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise too_large(limit)
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > limit:
                        raise too_large(limit)
                return bytes(body)
        except httpx.TimeoutException:
            raise
        except httpx.HTTPError as exc:
            raise ApiError(422, "fetch_failed", f"fetching from {url.host} failed: {exc}") from None


def _check_status(response: httpx.Response, url: httpx.URL, file: GithubFile) -> None:
    status = response.status_code
    if 300 <= status < 400:
        raise ApiError(
            422,
            "redirect_refused",
            f"{url.host} answered with a redirect (HTTP {status}); redirects are not followed",
        )
    if status == 404:
        raise ApiError(
            404,
            "source_not_found",
            f"no file {file.path!r} at {file.ref!r} in {file.owner}/{file.repo} "
            "(or the repository is private)",
        )
    if not 200 <= status < 300:
        raise ApiError(422, "fetch_failed", f"{url.host} answered HTTP {status}")
