"""The caller's address, believing X-Forwarded-For only from configured proxies (rate limits key on
it)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


@lru_cache(maxsize=64)
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(t, strict=False) for t in trusted)


def _trusted(addr: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The peer itself, unless it is a trusted proxy: then the right-most hop of X-Forwarded-For
    that is not a trusted proxy (hops further left were written by the client and prove nothing)."""
    if not peer:
        return "unknown"
    nets = networks(tuple(trusted))
    if not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ip_address(hop))
            except ValueError:
                # garbage from a proxy we trust: count it against the proxy, not a made-up name
                return peer
    return peer
