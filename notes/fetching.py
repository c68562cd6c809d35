"""Fetching a page from the web on a user's behalf, safely.

kb fetches addresses that people paste or that a page links to (capture, papers by identifier,
feeds). Left alone, such a request could reach the machine's own services or the private
network behind it. So: only http and https; every address a name resolves to must be public
(not loopback, private, link-local, multicast, reserved, nor those written as IPv6), checked
after DNS resolution, and the connection goes to exactly the address that was checked (no second
lookup for a rebinding name to answer differently); each redirect is checked the same way. Time
and size are bounded, no cookie is sent or kept, and the User-Agent says who is asking.

`KB_FETCH_ALLOWED_HOSTS` names hosts (`host` or `host:port`) that may resolve to non-public
addresses, for an intranet or a test's own server.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class FetchError(Exception):
    """Why a fetch did not happen or did not finish, in words for the person who asked."""


class FetchRefused(FetchError):
    """kb will not fetch this: a scheme, an address or a size it does not allow."""


class FetchFailed(FetchError):
    """The fetch was allowed but did not work: no such host, no answer, an error status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status when the server answered with an error


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str] = field(repr=False)  # names in lower case
    content: bytes = field(repr=False)
    content_type: str = ""  # the media type alone, e.g. "text/html"

    @property
    def text(self) -> str:
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def fetch(
    url: str,
    *,
    max_bytes: int = 2_000_000,
    timeout: float | None = None,
    accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET `url`, following up to five redirects; the answer (2xx or 304) or a FetchError.

    `timeout` bounds the whole fetch, redirects included (default KB_FETCH_TIMEOUT seconds);
    `max_bytes` bounds the body, decompressed."""
    timeout = settings.KB_FETCH_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        response = _get_once(url, deadline, max_bytes, accept, headers or {})
        location = response.headers.get("location")
        if response.status in REDIRECTS and location:
            url = urljoin(url, location.strip())
            continue
        if response.status >= 400:
            raise FetchFailed(f"{_shown(url)} answered {response.status}.", status=response.status)
        return response
    raise FetchFailed(f"{_shown(url)} redirected more than {MAX_REDIRECTS} times.")


def _shown(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "…"


def _target(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an address kb may fetch, else FetchRefused."""
    if any(c in url for c in "\x00\r\n\t "):
        raise FetchRefused("The address contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"{_shown(url)} is not a valid address.") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise FetchRefused(f"Only http and https addresses are fetched, not {_shown(url)}.")
    if not parts.hostname:
        raise FetchRefused(f"{_shown(url)} names no host.")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("Addresses with a user name or password in them are not fetched.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # A typed address may hold letters HTTP can't carry as they are; escapes already there stay.
    path = quote(path, safe="!#$%&'()*+,/:;=?@[]~")
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80), path


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local,
    multicast, reserved or unspecified, however it is written (IPv4-mapped, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def _allowed_by_setting(host: str, port: int) -> bool:
    allowed = {entry.lower() for entry in settings.KB_FETCH_ALLOWED_HOSTS}
    if ":" in host:  # an IPv6 literal, written with brackets in the setting
        host = f"[{host}]"
    return host in allowed or f"{host}:{port}" in allowed


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, each checked; FetchRefused if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(f"Could not find the host {host}.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not _allowed_by_setting(host, port):
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%")[0])):
                raise FetchRefused(
                    f"{host} is at {address}, which is not a public address; kb fetches only "
                    "from the public internet."
                )
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS would answer now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = self.pinned = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        # The certificate is checked against the host name, as a browser would.
        self.sock = self.pinned = self._context.wrap_socket(sock, server_hostname=self.host)


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed(f"{_shown(url)} took too long to answer.")
    return left


def _get_once(
    url: str, deadline: float, max_bytes: int, accept: str, extra: dict[str, str]
) -> Fetched:
    scheme, host, port, path = _target(url)
    addresses = resolve(host, port)
    connection_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    error: Exception | None = None
    for address in addresses:
        connection = connection_class(host, port, address, _remaining(deadline, url))
        try:
            connection.request(
                "GET",
                path,
                headers={
                    **extra,
                    "User-Agent": settings.KB_FETCH_USER_AGENT,
                    "Accept": accept,
                    "Accept-Encoding": "gzip",
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            return _read(url, response, connection, deadline, max_bytes)
        except (OSError, http.client.HTTPException, UnicodeError) as exc:
            error = exc
        finally:
            connection.close()
    if isinstance(error, TimeoutError | socket.timeout):
        raise FetchFailed(f"{_shown(url)} took too long to answer.") from error
    raise FetchFailed(f"Could not connect to {host}: {error}.") from error


def _read(url, response, connection, deadline: float, max_bytes: int) -> Fetched:
    headers = {name.lower(): value for name, value in response.getheaders()}
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchRefused(f"{_shown(url)} is larger than {max_bytes:,} bytes.")
    gzipped = headers.get("content-encoding", "").lower() == "gzip"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    body, size = [], 0
    while not response.isclosed():  # http.client closes it once the declared length is read
        # Kept apart from `connection.sock`, which http.client drops once the answer has begun.
        connection.pinned.settimeout(_remaining(deadline, url))
        chunk = response.read(CHUNK)
        if not chunk:
            break
        if inflate is not None:
            try:
                chunk = inflate.decompress(chunk, max_bytes + 1 - size)
            except zlib.error as exc:
                raise FetchFailed(f"{_shown(url)} sent a broken compressed body.") from exc
        size += len(chunk)
        if size > max_bytes:
            raise FetchRefused(f"{_shown(url)} is larger than {max_bytes:,} bytes.")
        body.append(chunk)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(url, response.status, headers, b"".join(body), content_type)
