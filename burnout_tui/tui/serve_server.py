"""textual-serve's server with the doors closed: token, Host and Origin checks, local page.

textual-serve 1.1 serves its page and websocket to any request: any Host (so a
DNS-rebinding page reaches it), any Origin (so any web page the person visits can open the
websocket, start a monitor and read the screen), and its page loads Google Fonts. This
subclass keeps its websocket-to-process relay (`handle_websocket`, `AppService`) and
replaces what is around it:

- a middleware refuses (403) every request whose Host is not this server's, and any
  request carrying an Origin that is not this server's, before a route runs;
- the page (`/?token=…`) and the websocket (`/ws/<token>`) need the run's token; the
  websocket also needs our Origin, which browsers always send on one. The token goes in
  the websocket's path because textual.js appends `?width=…&height=…` to the URL the page
  gives it; the page builds that URL from the (checked) Host the browser used, so the
  socket is same-origin with the page;
- the page is our own template (`serve_page.html`): only root-relative URLs, textual-serve's
  bundled font instead of Google Fonts, and a Content-Security-Policy that lets the browser
  load nothing from elsewhere, with no Referer (the URL holds the token) and no framing;
- no access log (its request lines would hold the token), no directory listing, and no
  `/download` route (the monitor delivers no files);
- it listens on a socket bound beforehand, so the allow-lists know the real port (with
  `--port 0` too) before the first request can arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Final

import jinja2
from aiohttp import hdrs, web
from textual_serve.server import Server

from burnout_tui.tui.serve_access import Access, ServeAccessError, page_url, url_host

log = logging.getLogger(__name__)

PAGE_TEMPLATE: Final = "serve_page.html"
DEFAULT_FONT_SIZE = 16
"""textual-serve's default; `?fontsize=` changes it as it does there."""

MIN_FONT_SIZE, MAX_FONT_SIZE = 6, 64
"""A readable range: the value ends up in the page, so it is clamped, never echoed raw."""

CHILD_QUIT_S = 10.0
"""How long Ctrl+C waits for each tab's monitor to finalise its session after `quit`."""

SHUTDOWN_S = 1.0
"""aiohttp's wait for other requests at shutdown: the websockets are ended before it."""

TOKEN_REFUSED = (
    "403: this page needs the link `burnout-tui monitor --serve` printed, with its token."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def content_security_policy(host: str) -> str:
    """Scripts, styles and fonts from this server only; the one socket is ours."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self'",
            "img-src 'self' data:",
            f"connect-src ws://{host}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def route_name(request: web.Request) -> str:
    """What was asked for, for a log line: never the path, which may hold the token."""
    name = request.match_info.route.name
    return name if name is not None else "unknown path"


def refuse(request: web.Request, reason: str, text: str = "403: refused") -> web.HTTPForbidden:
    log.warning("refused a request for the %s: %s", route_name(request), reason)
    return web.HTTPForbidden(text=text)


def font_size(request: web.Request) -> int:
    try:
        size = int(request.query.get("fontsize", DEFAULT_FONT_SIZE))
    except ValueError:
        return DEFAULT_FONT_SIZE
    return min(max(size, MIN_FONT_SIZE), MAX_FONT_SIZE)


class GuardedServer(Server):
    """textual-serve's `Server`, answering only requests with our token, Host and Origin."""

    def __init__(self, command: str, access: Access, title: str) -> None:
        super().__init__(command, title=title)
        self.access = access
        self.page = jinja2.Environment(autoescape=True).from_string(
            files("burnout_tui.tui").joinpath(PAGE_TEMPLATE).read_text(encoding="utf-8")
        )
        self.sockets: set[asyncio.Task[object]] = set()

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Host on every request (DNS rebinding), Origin wherever a browser sends one."""
        host = request.headers.get(hdrs.HOST)
        if not self.access.host_allowed(host):
            raise refuse(request, f"foreign Host {host!r}")
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and not self.access.origin_allowed(origin):
            raise refuse(request, f"foreign Origin {origin!r}")
        return await handler(request)

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        app.add_routes(
            [
                web.get("/", self.handle_index, name="page"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.Response:
        if not self.access.token_matches(request.query.get("token")):
            raise refuse(request, "missing or wrong token", TOKEN_REFUSED)
        host = request.headers[hdrs.HOST]
        html = self.page.render(
            title=self.title,
            font_size=font_size(request),
            websocket_url=f"ws://{host}/ws/{self.access.token}",
        )
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Content-Security-Policy": content_security_policy(host),
                "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Start a monitor only for our own page: the token, and our Origin (always sent)."""
        if not self.access.token_matches(request.match_info["token"]):
            raise refuse(request, "missing or wrong token", TOKEN_REFUSED)
        origin = request.headers.get(hdrs.ORIGIN)
        if not self.access.origin_allowed(origin):
            raise refuse(request, f"Origin {origin!r} is not this server's")
        task = asyncio.current_task()
        assert task is not None, "a coroutine always runs in a task"
        self.sockets.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sockets.discard(task)

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its logo and an untokened URL here; `serve` prints ours."""

    async def on_shutdown(self, app: web.Application) -> None:
        """End each tab's relay, which sends its monitor `quit`: sessions finalise as on `q`."""
        tasks = list(self.sockets)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CHILD_QUIT_S)

    def serve(self, debug: bool = False) -> None:
        raise NotImplementedError("use serve_on(socket), which knows the bound port")

    def serve_on(self, listener: socket.socket, url_host_name: str) -> None:
        """Serve on an already bound socket until Ctrl+C or SIGTERM; print the URL once."""
        self.initialize_logging()
        asyncio.run(self._serve_on(listener, url_host_name))

    async def start(self, listener: socket.socket) -> web.AppRunner:
        """Answer requests on `listener` from now on; `cleanup()` the runner to stop."""
        runner = web.AppRunner(
            await self._make_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_S,
        )
        await runner.setup()
        try:
            await web.SockSite(runner, listener).start()
        except BaseException:
            await runner.cleanup()
            raise
        return runner

    async def _serve_on(self, listener: socket.socket, url_host_name: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl+C raises KeyboardInterrupt instead.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        runner = await self.start(listener)
        try:
            port = listener.getsockname()[1]
            # The only place the token is ever written.
            print(f"Serving {self.title} on {page_url(url_host_name, port, self.access.token)}")
            print("Press Ctrl+C to quit", flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: any free port), or one line saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise ServeAccessError(f"cannot listen on {url_host(host)}:{port}: {error}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen()
    except OSError as error:
        listener.close()
        raise ServeAccessError(
            f"cannot listen on {url_host(host)}:{port}: {error.strerror or error}"
        ) from None
    listener.setblocking(False)
    return listener
