#!/usr/bin/env python3
"""A fake Docker Engine on a Unix socket, for t_21_docker_faults.sh.

  fake_engine.py SOCKET MODEFILE LOGFILE PROJECT

Its behaviour is the word in MODEFILE, read at every request:

  good      API 1.43 (davit must cap it at 1.41); one running container of
            service "web"; /events stays open; start answers 500, stop 204
  garbage   /version answers 200 with HTML
  http500   /version answers 500 {"message":"engine on fire"}
  oldapi    /version says API 1.20
  huge      the container list is 5 MiB
  badlist   the container list holds an Id that is not 64 hex digits
  badevent  as good, and the event stream sends a garbage line, then a
            valid event, then (when MODEFILE says "longline") a line of
            70,000 bytes
Every request line goes to LOGFILE.
"""
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

SOCK, MODEFILE, LOGFILE, PROJECT = sys.argv[1:5]
WEB_ID = "ab" * 32


def mode():
    try:
        with open(MODEFILE) as f:
            return f.read().strip()
    except OSError:
        return "good"


def labels(service):
    return {"com.docker.compose.project": PROJECT,
            "com.docker.compose.service": service,
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.container-number": "1"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "unix"

    def reply(self, code, body, ctype="application/json"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        with open(LOGFILE, "a") as f:
            f.write("POST %s\n" % self.path)
        if "/start" in self.path:
            self.reply(500, {"message": "fake engine says no"})
        else:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_GET(self):
        m = mode()
        with open(LOGFILE, "a") as f:
            f.write("GET %s\n" % self.path)
        path = self.path.split("?")[0]
        if path == "/version":
            if m == "garbage":
                return self.reply(200, b"<html>hello</html>", "text/html")
            if m == "http500":
                return self.reply(500, {"message": "engine on fire"})
            api = "1.20" if m == "oldapi" else "1.43"
            return self.reply(200, {"ApiVersion": api, "MinAPIVersion": "1.12",
                                    "Version": "fake-1.0"})
        if path.endswith("/events"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            sent_bad = False
            while True:
                m = mode()
                if m in ("badevent", "longline") and not sent_bad:
                    self.chunk(b"this is not json\n")
                    ev = {"Type": "container", "Action": "start",
                          "Actor": {"ID": WEB_ID, "Attributes": labels("web")}}
                    self.chunk(json.dumps(ev).encode() + b"\n")
                    sent_bad = True
                if m == "longline":
                    self.chunk(b"{" + b" " * 70000)
                    time.sleep(0.5)
                    return
                time.sleep(0.2)
        if path.endswith("/containers/json"):
            if m == "huge":
                return self.reply(200, b"[" + b" " * (5 * 1024 * 1024) + b"]")
            cid = "xyz" if m == "badlist" else WEB_ID
            return self.reply(200, [{"Id": cid, "Names": ["/fake_web_1"],
                                     "Image": "fake-web", "State": "running",
                                     "Status": "Up 1 second", "Created": 1795721658,
                                     "Labels": labels("web")}])
        if path.endswith("/containers/%s/json" % WEB_ID):
            return self.reply(200, {
                "Id": WEB_ID, "Name": "/fake_web_1", "RestartCount": 2,
                "Created": "2026-11-26T19:34:18.093851062Z",
                "State": {"Status": "running", "ExitCode": 0,
                          "StartedAt": "2026-11-26T19:34:18.210009899Z",
                          "FinishedAt": "0001-01-01T00:00:00Z"},
                "Config": {"Image": "fake-web", "Labels": labels("web")}})
        self.reply(404, {"message": "page not found"})


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
