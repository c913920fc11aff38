"""The client's address: the peer, or, behind proxies listed in ``WEBOX_TRUSTED_PROXIES``, the
address the nearest of them saw.

Each proxy appends the address it received the request from to ``X-Forwarded-For``, so only the
right end of the header is written by proxies we know; everything left of it is whatever the
client sent. Walking from the right and stopping at the first address that is not a trusted
proxy gives the client's real address, however the client filled the header in. A peer that is
not a trusted proxy is the client itself, and its ``X-Forwarded-For`` is ignored.

Every per-address limit, the ``/metrics`` allow-list and the request log use this function.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

UNKNOWN = "unknown"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``WEBOX_TRUSTED_PROXIES`` parsed; raises ``ValueError`` on an entry that is not an IP or CIDR."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d; it is the same client.
    return getattr(address, "ipv4_mapped", None) or address


def resolve(peer: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client address from the peer's address and the ``X-Forwarded-For`` header's value."""
    address = _ip(peer or "")
    if address is None:
        return UNKNOWN
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()] if forwarded_for else []
    while any(address in network for network in trusted):
        if not hops:
            break  # every hop is a proxy of ours: the nearest one is the best we know
        nearer = _ip(hops.pop())
        if nearer is None:
            break  # a trusted proxy wrote garbage: stop at the proxy rather than guess
        address = nearer
    return str(address)


def client_address(request) -> str:
    """The address of the client that sent ``request`` (a Django request); ``"unknown"`` if none."""
    return resolve(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""),
                   trusted_networks(tuple(settings.WEBOX_TRUSTED_PROXIES)))
