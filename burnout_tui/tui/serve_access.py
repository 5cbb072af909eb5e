"""Who may use `monitor --serve`: the token, and the Host and Origin allow-lists.

The served page shows health data and its websocket starts monitor sessions, so being able
to reach the port must not be enough. Three checks, each closing a different door:

- a per-run secret token, printed once in the URL (as Jupyter does), is required by the page
  and by the websocket: another local user or a process that finds the port learns nothing;
- `Host` must name this server (loopback names or the explicit `--host`) on every request:
  a DNS-rebinding page, whose own hostname now resolves to 127.0.0.1, is refused;
- `Origin` must be this server's own on the websocket (and on any request that sends one):
  browsers let any web page open a websocket to localhost, and only the Origin tells them
  apart.

Everything here is pure (no sockets) so it can be tested on its own.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

from burnout_tui.errors import UserError

DEFAULT_HOST = "127.0.0.1"
"""Loopback only, and an address rather than `localhost`, which some systems resolve to a
public interface or to both address families."""

DEFAULT_PORT = 8000
"""textual-serve's default port."""

TOKEN_BYTES = 32
"""256 bits of randomness: far beyond guessing over HTTP, as long as Jupyter's tokens."""

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
"""The names a browser on this machine may use for a loopback listener."""

HTTP_DEFAULT_PORT = 80
"""On this port browsers leave the port out of Host and Origin."""


class ServeAccessError(UserError):
    """`--host`/`--port` name an address the server must not or cannot listen on."""


def new_token() -> str:
    """A fresh secret for one server run; it lives only in this process and the printed URL."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so response timing does not leak the token's prefix."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def url_host(host: str) -> str:
    """`host` as it appears in a URL, Host header or Origin: IPv6 literals in brackets."""
    bare = host.strip("[]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return host.lower()
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback literals: only this machine can reach them."""
    bare = host.strip("[]")
    if bare.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def check_bind_host(host: str) -> None:
    """Refuse hosts that make the Host allow-list meaningless.

    A wildcard (0.0.0.0, ::) listens on every interface under names the server cannot
    know, so no Host could be checked; asking for the one address people will use keeps
    the DNS-rebinding defence.
    """
    bare = host.strip("[]")
    if not bare:
        raise ServeAccessError("--host is empty: give an address such as 127.0.0.1")
    try:
        wildcard = ipaddress.ip_address(bare).is_unspecified
    except ValueError:
        wildcard = False
    if wildcard:
        raise ServeAccessError(
            f"--host {host} listens on every interface; give the one address the browser "
            "will use (e.g. --host 192.168.1.20): it is also the only Host the server accepts"
        )


def exposure_warning(host: str) -> str | None:
    """The stderr warning for a non-loopback `--host`, or None where only this machine sees it."""
    if is_loopback(host):
        return None
    return (
        f"Warning: --host {host} is not a loopback address. Anyone who can reach it and has "
        "the URL's token sees this page's health data (stress, fatigue, surveys, history) "
        "and can start sessions; the page is plain http, so the token and the screen cross "
        "the network unencrypted."
    )


@dataclass(frozen=True)
class Access:
    """What a request must carry: the token, a Host and (where sent) an Origin of ours."""

    token: str = field(repr=False)
    hosts: frozenset[str]
    origins: frozenset[str]

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower() in self.hosts

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is not None and origin.lower() in self.origins

    def token_matches(self, given: str | None) -> bool:
        return token_matches(given, self.token)


def access_for(host: str, port: int, token: str) -> Access:
    """The allow-lists for a server bound to `host`:`port` (the port it really got)."""
    names = {*LOOPBACK_NAMES, url_host(host)}
    hosts = {f"{name}:{port}" for name in names}
    if port == HTTP_DEFAULT_PORT:
        hosts |= names
    return Access(
        token=token,
        hosts=frozenset(hosts),
        origins=frozenset(f"http://{value}" for value in hosts),
    )


def page_url(host: str, port: int, token: str) -> str:
    """The one URL printed for the person at the keyboard."""
    return f"http://{url_host(host)}:{port}/?token={token}"
