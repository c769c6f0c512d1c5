#!/usr/bin/env python3
"""A notification receiver for the tests: an HTTP server on 127.0.0.1:PORT
that appends the body of every POST to FILE, one line each, and answers 204.
Usage: receiver.py PORT FILE"""
import http.server
import sys

OUT = sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(OUT, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
