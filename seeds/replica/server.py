"""HTTP server for the replica: every host on one 127.0.0.1 port, routed by the Host header.

Requests may also come in proxy form (``GET http://host/path``), so ``curl -x`` works. HEAD,
ETag / Last-Modified with 304 on conditional requests, gzip, robots.txt per host. A control API on
the 127.0.0.1 host (``/_replica/state``, ``/_replica/log``) switches the epoch and the fault
rules at run time and returns the request log; tests use it instead of restarts.

Fault rules (``--faults FILE`` or POST ``/_replica/state``): ``[{"match": REGEX on host+path,
"fault": NAME, "times": N (optional: only the first N matching requests), "delay": SECONDS}]``
with NAME one of: slow, timeout, 500, 503, reset, truncate, empty, wrong_charset, no_charset,
huge (``size_mb``, ``blocks``), gzip_bomb, redirect_loop, pdf, gzip_truncate (a gzip stream cut short, its Content-Length
matching what is sent), close_early (no Content-Length; the connection closes two thirds in),
redirect (302 to the rule's "location"), endless (a list page that always has one more
page: its 下一页 leads to ?page=n+1, served the same); and the answers portals give crawlers:
challenge_412 (瑞数-style: 412 with a $_ts script setting a cookie), waf (a 安全狗 block page, 403),
too_frequent (200 "访问过于频繁"), soft404 (200 "页面不存在").
"""
from __future__ import annotations

import gzip
import itertools
import json
import re
import signal
import socket
import struct
import threading
import time
from collections import deque
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import site

CONTROL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
FAULTS = {"slow", "timeout", "500", "503", "reset", "truncate", "empty", "wrong_charset", "no_charset",
          "huge", "gzip_bomb", "redirect_loop", "pdf", "gzip_truncate", "close_early", "redirect",
          "endless", "challenge_412", "waf", "too_frequent", "soft404"}


class RequestLog(deque):
    """The requests served, in order; ``wait_for(n)`` blocks until n have been logged (tests use it
    to act at a given point of a crawl without sleeping).

    A request is logged once its response is written, which a client may see before the entry
    exists; ``settle()`` waits for every request begun earlier, so a client that asks for the log
    after its responses arrived always finds them in it."""

    def __init__(self):
        super().__init__(maxlen=200_000)
        self.count = 0
        self.cond = threading.Condition()
        self.tickets = itertools.count()
        self.open: set[int] = set()

    def begin(self) -> int:
        with self.cond:
            ticket = next(self.tickets)
            self.open.add(ticket)
            return ticket

    def end(self, ticket: int, entry: dict | None) -> None:
        """The request is done; log its entry, if any (a ticket may be ended early, then logged)."""
        with self.cond:
            self.open.discard(ticket)
            if entry is not None:
                super().append(entry)
                self.count += 1
            self.cond.notify_all()

    def settle(self, timeout: float = 30.0) -> None:
        with self.cond:
            before = next(self.tickets)
            self.cond.wait_for(lambda: not any(t < before for t in self.open), timeout)

    def clear(self) -> None:
        with self.cond:
            super().clear()

    def snapshot(self) -> list[dict]:
        """The entries so far (iterating the deque itself races with the serving threads)."""
        with self.cond:
            return list(self)

    def wait_for(self, n: int, timeout: float = 60.0, give_up=lambda: False) -> bool:
        """True once ``n`` requests were served in all; False on timeout or when ``give_up()``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0 or give_up():
                    return False
                self.cond.wait(min(left, 0.2))
        return True


class State:
    """What the running replica serves: the epoch, the fault rules and the log of requests."""

    def __init__(self, epoch: int = 1, scale: int = 0, faults: list | None = None, pagers: str = "default",
                 portals: int = 0):
        self.lock = threading.Lock()
        self.scale = scale
        self.portals = portals
        self.pagers = pagers
        self.stopping = threading.Event()
        self.log = RequestLog()
        self.set(epoch=epoch, faults=faults or [])

    def set(self, epoch: int | None = None, faults: list | None = None, pagers: str | None = None) -> None:
        with self.lock:
            if pagers is not None:
                if pagers not in site.PAGERS:
                    raise ValueError(f"pagers must be one of {sorted(site.PAGERS)}")
                self.pagers = pagers
                epoch = epoch or self.epoch
            if epoch is not None:
                if epoch not in site.SERVED_EPOCHS:
                    raise ValueError(f"epoch must be one of {site.SERVED_EPOCHS}")
                self.epoch = epoch
                self.pages = site.build(epoch, self.scale, self.pagers, self.portals)
            if faults is not None:
                for f in faults:
                    if f.get("fault") not in FAULTS:
                        raise ValueError(f"unknown fault {f.get('fault')!r}; known: {sorted(FAULTS)}")
                self.faults = [dict(f, rx=re.compile(f["match"]), used=0) for f in faults]

    def fault_for(self, key: str) -> dict | None:
        with self.lock:
            for f in self.faults:
                if f["rx"].search(key):
                    if "times" in f and f["used"] >= f["times"]:
                        continue
                    f["used"] += 1
                    return f
        return None

    def describe(self) -> dict:
        return {"epoch": self.epoch, "scale": self.scale, "pagers": self.pagers, "pages": len(self.pages),
                "faults": [{k: v for k, v in f.items() if k != "rx"} for f in self.faults]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "govarchive-replica/1"
    state: State

    def log_message(self, *args):  # quiet; the request log is kept in State.log
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def do_POST(self):
        host, path = self._target()
        if host in CONTROL_HOSTS and path.startswith("/_replica/"):
            return self._control(path, post=True)
        self._send(405, b"method not allowed", "text/plain")

    # ---------------------------------------------------------------------------------------
    def _target(self) -> tuple[str, str]:
        if self.path.startswith(("http://", "https://")):
            u = urlsplit(self.path)
            return (u.hostname or "").lower(), (u.path or "/") + (f"?{u.query}" if u.query else "")
        host = (self.headers.get("Host") or "").lower()
        host = host[1:].split("]")[0] if host.startswith("[") else host.split(":")[0]
        return host, self.path

    def _serve(self, head: bool) -> None:
        host, path = self._target()
        if host in CONTROL_HOSTS:
            if path.startswith("/_replica/"):
                return self._control(path, post=False)
            return self._send(200, self._index().encode(), "text/html; charset=utf-8", head=head)
        self._ticket, self._entry = self.state.log.begin(), None
        try:
            self._serve_page(host, path, head)
        finally:
            self.state.log.end(self._ticket, self._entry)

    def _serve_page(self, host: str, path: str, head: bool) -> None:
        st = self.state
        t0 = time.time()
        page = st.pages.get((host, path)) or st.pages.get((host, path.split("?")[0]))
        fault = st.fault_for(host + path)
        status = page.status if page else 404
        if fault:
            status = self._fault(fault, page, head)
            return self._log(t0, host, path, status, fault=fault["fault"])
        if page is None:
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html; charset=utf-8", head=head)
            return self._log(t0, host, path, 404)
        if page.status == 200 and self._not_modified(page):
            status = 304
            self.send_response(304)
            self.send_header("ETag", page.etag)
            self.send_header("Last-Modified", page.last_modified)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(page.status, page.body, page.content_type, head=head, page=page)
        self._log(t0, host, path, status,
                  conditional=bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")))

    def _log(self, t0: float, host: str, path: str, status: int, **extra) -> None:
        """One request: its host, when it started and ended, and the crawl job its User-Agent names."""
        job = re.search(r"\bjob/(\S+)", self.headers.get("User-Agent") or "")
        self._entry = {"host": host, "path": path, "method": self.command, "status": status, "t0": t0,
                       "t": time.time(), "job": job.group(1) if job else None, **extra}

    def _not_modified(self, page) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm and page.etag:
            return page.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims and page.last_modified:
            try:
                return parsedate_to_datetime(page.last_modified) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, body: bytes, ctype: str, head: bool = False, page=None,
              extra: dict | None = None) -> None:
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "") and len(body) > 512
        if gz:
            body = gzip.compress(body, compresslevel=5, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if gz:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        if page is not None and page.etag:
            self.send_header("ETag", page.etag)
            self.send_header("Last-Modified", page.last_modified)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_gzipped(self, data: bytes, ctype: str, head: bool) -> None:
        """A 200 whose body is already gzip data, sent as it is (a bomb, a stream cut short)."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    # ---------------------------------------------------------------------------------------
    def _fault(self, f: dict, page, head: bool) -> int:
        name = f["fault"]
        body = page.body if page else b"<html><body>ok</body></html>"
        ctype = page.content_type if page else "text/html; charset=utf-8"
        if name == "slow":
            self.state.stopping.wait(float(f.get("delay", 2)))
            self._send(page.status if page else 404, body, ctype, head=head, page=page)
            return page.status if page else 404
        if name == "timeout":  # no response is coming, so the log need not wait for this one
            self.state.log.end(self._ticket, None)
            self.state.stopping.wait(float(f.get("delay", 60)))
            self.close_connection = True
            return 0
        if name in ("500", "503"):
            self._send(int(name), b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html",
                       head=head, extra={"Retry-After": "0"} if name == "503" else None)
            return int(name)
        if name == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return 0
        if name == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return 200
        if name == "empty":
            self._send(200, b"", "text/html; charset=utf-8", head=head)
            return 200
        if name == "wrong_charset":
            wrong = "utf-8" if "gb" in ctype else "gbk"
            self._send(200, body, f"text/html; charset={wrong}", head=head)
            return 200
        if name == "no_charset":
            self._send(200, re.sub(rb"<meta[^>]*charset[^>]*>", b"", body, flags=re.I), "text/html", head=head)
            return 200
        if name == "huge":      # "blocks": many small blocks, which take seconds to extract
            pad = b"<p>" + "填充".encode() * 1000 + b"</p>\n" if not f.get("blocks") else \
                b"<div><p>" + "科技创新工作。".encode() * 3 + b"</p></div>\n"
            big = body.replace(b"</body>", pad * int(f.get("size_mb", 12) * 1024 * 1024 // len(pad)) + b"</body>")
            self._send(200, big, ctype, head=head)
            return 200
        if name == "gzip_bomb":
            self._send_gzipped(_gzip_bomb(int(f.get("size_mb", 64))), "text/html; charset=utf-8", head)
            return 200
        if name == "redirect_loop":
            _, path = self._target()   # two URLs that redirect to each other forever
            nxt = path[: -len("?loop")] if path.endswith("?loop") else path + "?loop"
            self._send(302, b"", "text/html", head=head, extra={"Location": nxt})
            return 302
        if name == "gzip_truncate":
            cut = gzip.compress(body, compresslevel=5, mtime=0)
            self._send_gzipped(cut[: len(cut) * 2 // 3], ctype, head)
            return 200
        if name == "close_early":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.wfile.write(body[: len(body) * 2 // 3])
                self.wfile.flush()
            self.close_connection = True
            return 200
        if name in CHALLENGES:
            status, page_body, extra = CHALLENGES[name]
            self._send(status, page_body.encode("utf-8"), "text/html; charset=utf-8", head=head, extra=extra)
            return status
        if name == "endless":
            _, path = self._target()
            m = re.search(r"[?&]page=(\d+)", path)
            n = int(m.group(1)) if m else 1
            more = f'<a href="{path.split("?")[0]}?page={n + 1}">下一页</a></body>'.encode()
            self._send(200, body.replace(b"</body>", more), ctype, head=head)
            return 200
        if name == "redirect":
            self._send(302, b"", "text/html", head=head, extra={"Location": f["location"]})
            return 302
        if name == "pdf":
            self._send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n", "application/pdf",
                       head=head)
            return 200
        raise AssertionError(name)

    def _control(self, path: str, post: bool) -> None:
        st = self.state
        if path.startswith("/_replica/state"):
            if post:
                try:
                    n = int(self.headers.get("Content-Length") or 0)
                    req = json.loads(self.rfile.read(n) or b"{}")
                    st.set(epoch=req.get("epoch"), faults=req.get("faults"), pagers=req.get("pagers"))
                except (ValueError, KeyError, re.error) as e:
                    return self._send(400, json.dumps({"error": str(e)}).encode(), "application/json")
            return self._send(200, json.dumps(st.describe()).encode(), "application/json")
        if path.startswith("/_replica/log"):
            st.log.settle()
            if post:
                st.log.clear()
            return self._send(200, json.dumps(st.log.snapshot(), ensure_ascii=False).encode(), "application/json")
        self._send(404, b"unknown control path", "text/plain")

    def _index(self) -> str:
        hosts = sorted({h for h, _ in self.state.pages})
        items = "".join(f"<li>{h}</li>" for h in hosts)
        return (f"<html><head><meta charset='utf-8'><title>govarchive replica</title></head><body>"
                f"<h1>govarchive replica, epoch {self.state.epoch}</h1><p>Hosts served (send the Host header, "
                f"or use this server as an HTTP proxy):</p><ul>{items}</ul></body></html>")


# What portals answer crawlers instead of the page [C: anchors-2.md §7 — 瑞数 202/412 + $_ts (iv8 #9);
# WAF and rate pages by their usual wording]. Structure only: no working challenge script.
CHALLENGES = {
    "challenge_412": (412, "<!DOCTYPE html><html><head><meta charset='utf-8'><meta id='9DhefwqGPrzGxEp9hPaoag' "
                           "content='placeholder'><script type='text/javascript'>$_ts=window['$_ts'];if(!$_ts)$_ts="
                           "window['$_ts']={};$_ts.nsd=12345;$_ts.cd='qqqqqqqq';</script><script type='text/javascript' "
                           "src='/chl/abc.js' r='m'></script></head><body></body></html>",
                      {"Set-Cookie": "FSSBBIl1UgzbN7N80S=placeholder; Path=/; HttpOnly"}),
    "waf": (403, "<html><head><meta charset='utf-8'><title>网站防火墙</title></head><body><div class='safedog'>"
                 "<h2>您的访问被拦截</h2><p>可能原因：您提交的内容包含危险的攻击请求</p><p>网站防火墙 · 安全狗</p>"
                 "</div></body></html>", None),
    "too_frequent": (200, "<html><head><meta charset='utf-8'><title>提示</title></head><body><p>访问过于频繁，请稍后再试。"
                          "</p></body></html>", None),
    "soft404": (200, "<html><head><meta charset='utf-8'><title>提示信息</title></head><body><div class='error'>"
                     "<h1>抱歉，您访问的页面不存在或已被删除！</h1><a href='/'>返回首页</a></div></body></html>", None),
}


@lru_cache(maxsize=4)
def _gzip_bomb(size_mb: int) -> bytes:
    import zlib
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1024 * 1024)
    out = [comp.compress(b"<html><body>")]
    for _ in range(size_mb):
        out.append(comp.compress(chunk))
    out.append(comp.flush())
    return b"".join(out)


class ReplicaServer:
    """The replica on 127.0.0.1:port, in a background thread (tests) or the foreground (CLI)."""

    def __init__(self, port: int = 0, epoch: int = 1, scale: int = 0, faults: list | None = None,
                 host: str = "127.0.0.1", pagers: str = "default", portals: int = 0):
        self.state = State(epoch, scale, faults, pagers, portals)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> "ReplicaServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="replica", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    def install_signal_handlers(self) -> None:
        """SIGINT and SIGTERM stop the server cleanly; installed before the port is announced."""
        def stop(signum, frame):
            threading.Thread(target=self.httpd.shutdown, daemon=True).start()
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def serve_until_signal(self) -> None:
        """Foreground serving until SIGINT or SIGTERM."""
        self.install_signal_handlers()
        try:
            self.httpd.serve_forever()
        finally:
            self.state.stopping.set()
            self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
