#!/usr/bin/env python3
"""Latency of services.list (davit) and of the engine's own GET /containers/json.

Used by bench/services_list.sh. Each mode keeps one connection open (the
backend's protocol socket, or HTTP/1.1 keep-alive on the engine's socket) and
times N calls after a warm-up, checking every reply. Prints one line:
"<label> n=N median_ms=... p99_ms=... max_ms=...".

  services_list.py davit SOCKET N EXPECTED_SERVICES LABEL [PROJECT]
  services_list.py projects SOCKET N EXPECTED_PROJECTS LABEL
  services_list.py engine SOCKET N PATH LABEL
"""
import http.client
import json
import math
import socket
import sys
import time

WARMUP = 50


def summary(label, lat):
    lat = sorted(lat)
    n = len(lat)
    med = lat[n // 2] if n % 2 else (lat[n // 2 - 1] + lat[n // 2]) / 2
    p99 = lat[max(0, math.ceil(0.99 * n) - 1)]
    print(f"{label} n={n} median_ms={med:.3f} p99_ms={p99:.3f} max_ms={lat[-1]:.3f}")


def davit(path, n, expected, op="services.list", member="services", project=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rb")
    args = b""
    if project is not None:
        args = b',"args":{"project":"%s"}' % project.encode()
    lat = []
    for i in range(WARMUP + n):
        t0 = time.perf_counter_ns()
        s.sendall(b'{"id":%d,"op":"%s"%s}\n' % (i, op.encode(), args))
        line = f.readline()
        t1 = time.perf_counter_ns()
        r = json.loads(line)
        if not r.get("ok") or r.get("id") != i:
            sys.exit(f"{op}: bad reply: {line[:200]!r}")
        if len(r["result"][member]) != expected:
            sys.exit(f"{op}: {len(r['result'][member])} {member}, not {expected}")
        if i >= WARMUP:
            lat.append((t1 - t0) / 1e6)
    s.close()
    return lat


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def engine(path, n, url):
    c = UnixHTTPConnection(path)
    lat = []
    for i in range(WARMUP + n):
        t0 = time.perf_counter_ns()
        c.request("GET", url)
        resp = c.getresponse()
        body = resp.read()
        t1 = time.perf_counter_ns()
        if resp.status != 200:
            sys.exit(f"engine: HTTP {resp.status}: {body[:200]!r}")
        json.loads(body)
        if i >= WARMUP:
            lat.append((t1 - t0) / 1e6)
    c.close()
    return lat


def main():
    if len(sys.argv) not in (6, 7) or sys.argv[1] not in ("davit", "projects", "engine"):
        sys.exit(__doc__)
    mode, path, n, arg, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    project = sys.argv[6] if len(sys.argv) == 7 else None
    if mode == "davit":
        summary(label, davit(path, n, int(arg), project=project))
    elif mode == "projects":
        summary(label, davit(path, n, int(arg), "projects.list", "projects"))
    else:
        summary(label, engine(path, n, arg))


if __name__ == "__main__":
    main()
