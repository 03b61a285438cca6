"""The system's DNS resolver, as the webhook URL check's ``Resolver`` port."""

from __future__ import annotations

import socket


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6, TCP), in the resolver's order."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in answers]
