"""The page's web server: ``python -m model.viz.server --port P`` (started by ``mtsim viz``).

It is Solara's own server (``solara run model.viz.app``, production mode, bound to
127.0.0.1) with three additions:

* **Host check** (against DNS rebinding): a request whose ``Host`` header is not
  ``127.0.0.1``, ``localhost`` or ``[::1]`` (any port) gets ``400 Invalid host
  header``; a web page served from another name that resolves to 127.0.0.1 cannot
  read the page or open its websocket.
* **Origin check** (against cross-site websockets): the page's websocket (the Jupyter
  kernel channel that drives the model) opens only when its ``Origin`` header is the
  page's own: ``http://`` and the same host and port as the request's ``Host``. A
  browser sends the Origin of the page that opens a websocket, so a page of another
  site (``http://evil.example``), a sandboxed frame or a local file (``null``), or a
  websocket without an Origin is refused with ``403`` before the kernel starts.
* **No cookie warning per session.** Solara warns on every page load that a
  ``samesite=none`` cookie needs https unless the host name is ``localhost``, and
  falls back to ``samesite=lax``. Lax is right for a page opened directly (not
  embedded in another site's iframe), so the 15-line warning is filtered.
* **Dies with its parent** (Linux): if ``mtsim viz`` is killed, the kernel sends this
  process SIGTERM (``PR_SET_PDEATHSIG``), so no server is left behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import warnings

HOST = "127.0.0.1"
ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Host header names the server answers (without port)."""

COOKIE_WARNING = "Cookies with samesite=none require https"


def free_port() -> int:
    """Find a port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _name_and_port(netloc: str) -> tuple[str, str]:
    """Split ``host[:port]`` (IPv6 in brackets) into lower-case name and port (default 80)."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        name, _, rest = netloc.partition("]")
        name, port = name + "]", rest.removeprefix(":")
    elif netloc.count(":") == 1:
        name, port = netloc.split(":")
    else:
        name, port = netloc, ""
    return name, port or "80"


def host_allowed(host_header: str | None) -> bool:
    """Say whether a ``Host`` header names this computer's loopback (any port).

    Args:
        host_header: the request's ``Host`` header value, or None when missing.
    """
    if not host_header:
        return False
    return _name_and_port(host_header)[0] in ALLOWED_HOSTS


def origin_allowed(origin: str | None, host_header: str | None) -> bool:
    """Say whether a websocket's ``Origin`` is the page's own (same host and port, http).

    Args:
        origin: the request's ``Origin`` header value (``scheme://host[:port]``, or
            ``null`` from sandboxed frames and local files), or None when missing.
        host_header: the request's ``Host`` header value: where the page was loaded from.
    """
    if not origin or not host_allowed(host_header):
        return False
    scheme, separator, netloc = origin.strip().partition("://")
    if scheme.lower() != "http" or not separator or not netloc or "/" in netloc:
        return False
    return _name_and_port(netloc) == _name_and_port(host_header)


class LocalPageMiddleware:
    """ASGI middleware: loopback Host headers only; websockets from the page's own origin only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        """Pass allowed requests on; answer others with 400 (HTTP) or 403 (websocket)."""
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            if scope["type"] == "websocket":
                origin = headers.get(b"origin", b"").decode("latin-1")
                if not origin_allowed(origin, host):
                    # closing before accepting: the server answers the upgrade with 403
                    print(
                        f"mtsim viz: refused a websocket from origin {origin[:100] or 'none'!r}"
                        f" (host {host[:100] or 'none'!r}): not this page",
                        file=sys.stderr,
                        flush=True,
                    )
                    await send({"type": "websocket.close", "code": 1008})
                    return
            elif not host_allowed(host):
                body = b"Invalid host header"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Run the server on 127.0.0.1:PORT until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m model.viz.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, help="pid of mtsim viz: exit if it is gone")
    args = parser.parse_args(argv)
    _die_with_parent()
    if args.parent and os.getppid() != args.parent:
        sys.exit(0)  # the parent died before prctl took effect
    warnings.filterwarnings("ignore", message=COOKIE_WARNING)
    # what `solara run` sets before its server imports the app; the app module reads it
    # at import, and the middleware must be added before the server starts
    os.environ["SOLARA_APP"] = "model.viz.app"
    os.environ["SERVER_NAME"] = HOST
    os.environ["SERVER_PORT"] = str(args.port)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    import solara.server.starlette as solara_starlette
    from solara.__main__ import cli

    solara_starlette.app.add_middleware(LocalPageMiddleware)
    cli(
        [
            "run",
            "model.viz.app",
            "--host",
            HOST,
            "--port",
            str(args.port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level",
            "warning",
        ]
    )


if __name__ == "__main__":
    main()
