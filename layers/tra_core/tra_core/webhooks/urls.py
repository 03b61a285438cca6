"""Which webhook URLs the bridge may POST to (docs/architecture.md §9).

A webhook URL is the hub's to choose, so it must never let the bridge reach inside a network:
only ``https``, and every address its host is or resolves to must be a public one: not loopback,
private, link-local, shared (CGNAT), unspecified, multicast, reserved, or a cloud metadata
endpoint, including IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64).
The check runs when the URL is registered and again before each delivery; the delivery then
connects to an address this check vetted (never resolving the name a second time), so a name that
re-points to an internal address between the check and the request (DNS rebinding) is not followed.

The resolver is a port (``Resolver``): tests inject one, so no test ever sends traffic off the
machine. The local stack alone allows ``http://127.0.0.1:PORT/...`` (``allow_loopback_http``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tra_core.domain.errors import TraError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port)`` → the addresses the name resolves to (as text); raises ``OSError`` when none."""

MAX_URL_LENGTH = 2048

_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_LOCAL_HTTP_HOST = "127.0.0.1"


class WebhookUrlRefused(TraError):
    """The URL is not one the bridge may deliver to; the message says why."""

    code = "WEBHOOK_URL_REFUSED"


@dataclass(frozen=True, slots=True)
class VettedUrl:
    """A URL that passed the check, with the addresses it may be reached at (the first is used)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, Teredo client, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why the bridge must not connect to ``address`` (``None`` when it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the same host as its IPv4 address
            return refusal_reason(address.ipv4_mapped)
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            if reason is not None:
                return reason
    checks: tuple[tuple[bool, str], ...] = (
        (address in _METADATA, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a shared (CGNAT) address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private network address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _parse(url: str) -> tuple[str, str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"The webhook URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise WebhookUrlRefused("The webhook URL is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if not host:
        raise WebhookUrlRefused("The webhook URL must name a host, like https://hub.example/hooks.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("The webhook URL must not carry a user name or password.")
    if scheme not in ("https", "http"):
        raise WebhookUrlRefused("The webhook URL must start with https://.")
    return scheme, host.rstrip(".").lower(), port or (443 if scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def vet_url(url: str, resolve: Resolver, *, allow_loopback_http: bool = False) -> VettedUrl:
    """The URL with the addresses it may be reached at, or ``WebhookUrlRefused`` saying why.

    Every address the host resolves to must be public: one internal address refuses the URL.
    """
    scheme, host, port = _parse(url)
    if allow_loopback_http and scheme == "http" and host == _LOCAL_HTTP_HOST:
        return VettedUrl(url, scheme, host, port, (host,))
    if scheme != "https":
        raise WebhookUrlRefused("The webhook URL must start with https:// (plain http is not accepted).")
    literal = _literal(host.strip("[]"))
    if literal is not None:
        answers: Sequence[str] = (str(literal),)
    else:
        try:
            answers = resolve(host, port)
        except (OSError, UnicodeError):
            answers = ()
        if not answers:
            raise WebhookUrlRefused(f"The webhook host {host} cannot be resolved to an address.")
    addresses: list[str] = []
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%", 1)[0])
        reason = refusal_reason(address)
        if reason is not None:
            shown = "" if literal is not None else f" resolves to {address}, which"
            raise WebhookUrlRefused(
                f"The webhook host {host}{shown} is {reason}: the bridge only delivers to public "
                "HTTPS endpoints."
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    return VettedUrl(url, scheme, host, port, tuple(addresses))
