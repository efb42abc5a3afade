"""Where a webhook may be sent: http(s) URLs without credentials, to public addresses only.
The URL is checked when saved and its host resolved again at every delivery, and the
connection goes to the address that was checked, so a DNS answer that changes in between
(rebinding) cannot point a delivery at this machine or its private network."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

SCHEMES = {"http": 80, "https": 443}
MAX_URL = 500
_KINDS = {"unspecified": "the unspecified address", "loopback": "a loopback address",
          "link_local": "a link-local address", "multicast": "a multicast address",
          "private": "a private address", "reserved": "a reserved address"}
# Characters a path or query may carry as they are (RFC 3986's reserved and unreserved ones,
# and "%" so that escapes already in the URL stay as typed); anything else, non-ASCII
# letters included, is sent percent-encoded as UTF-8.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
# getaddrinfo has no timeout: lookups run in threads, at most this many at once (hung ones
# included), so a resolver that never answers holds a few threads, never the caller.
_LOOKUPS = threading.BoundedSemaphore(8)


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, for a person."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name in the URL: the Host header and TLS's server name
    port: int
    path: str  # path and query
    address: str  # where to connect: one of the checked addresses


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL, or UnsafeURL. The host comes
    back in its ASCII (IDNA) form and the path and query percent-encoded, as sent on the wire."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise UnsafeURL(f"A webhook URL is 1 to {MAX_URL} characters.")
    if any(char <= " " or char == "\x7f" for char in url):
        raise UnsafeURL("A webhook URL cannot contain spaces or control characters "
                        "(write a space as %20).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("This is not a URL like https://hooks.example/moderation.") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UnsafeURL("A webhook URL starts with https:// (or http://) and a host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("A webhook URL cannot carry a user name or password: the signature "
                        "header proves the sender.")
    if parts.fragment:
        raise UnsafeURL("A webhook URL has no #fragment.")
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return parts.scheme, _ascii_host(parts.hostname), port or SCHEMES[parts.scheme], path


def _ascii_host(host: str) -> str:
    """The host name as DNS, TLS and the Host header take it: café.example is
    xn--caf-dma.example."""
    host = host.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(f"The host name {host} is not a valid domain name.") from None


def refusal(address: str) -> str | None:
    """Why this address may not receive webhooks, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10: deprecated, but routed inside some networks
            return f"{ip} is a site-local address"
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:  # 6to4 and Teredo carry an IPv4 address that their relays deliver to
            for embedded in (ip.sixtofour, *(ip.teredo or ())):
                why = embedded is not None and refusal(str(embedded))
                if why:
                    return f"{ip} leads to {embedded}: {why}"
    for kind, words in _KINDS.items():
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is {words}"
    if not ip.is_global:  # shared address space (100.64/10), documentation ranges and such
        return f"{ip} is not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def resolve_within(host: str, port: int, timeout: float) -> list[str]:
    """resolve(), but the caller waits at most `timeout` seconds (UnsafeURL after that)."""
    until = time.monotonic() + timeout
    late = UnsafeURL(f"The host {host} did not resolve within {timeout:g} s.")
    if not _LOOKUPS.acquire(timeout=max(0.0, timeout)):
        raise late
    answer: dict = {}
    done = threading.Event()

    def lookup() -> None:
        try:
            answer["addresses"] = resolve(host, port)
        except Exception as error:
            answer["error"] = error
        finally:
            _LOOKUPS.release()
            done.set()

    threading.Thread(target=lookup, name="webhook-dns", daemon=True).start()
    if not done.wait(max(0.0, until - time.monotonic())):
        raise late
    if "error" in answer:
        raise answer["error"]
    return answer["addresses"]


def check(url: str, *, allow_private: bool = False, timeout: float | None = None) -> Target:
    """The URL's parts and the address to connect to; UnsafeURL when any address the host
    resolves to is not public (unless `allow_private`), or it does not resolve (within
    `timeout` seconds, when given)."""
    scheme, host, port, path = parse(url)
    try:
        addresses = (resolve(host, port) if timeout is None
                     else resolve_within(host, port, timeout))
    except (OSError, UnicodeError):
        raise UnsafeURL(f"The host {host} could not be resolved.") from None
    if not addresses:
        raise UnsafeURL(f"The host {host} could not be resolved.")
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why:
                raise UnsafeURL(f"Webhooks are not sent to {host}: {why}. Only public "
                                "addresses receive webhooks.")
    return Target(scheme, host, port, path, addresses[0])
