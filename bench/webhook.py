#!/usr/bin/env python3
"""Webhook-to-deploy latency: the client side of bench/webhook.sh.

For each delivery: a new commit is pushed to the origin (outside the timed
window), then a GitHub push delivery for it is signed and POSTed to
/hooks/github on a new connection. t0 is taken just before the connection is
opened. Measured from t0:

  reply       the 202 reply read in full (client clock, ns)
  start       the deploy job's started_at (the backend's CLOCK_REALTIME,
              milliseconds, truncated: up to 1 ms early)
  start_ev    the job.state "running" event read on a subscribed backend
              connection (client clock, ns): an upper bound of the start
  compose     the first compose command exec'd (the fake compose records
              CLOCK_REALTIME, ns, first thing in main)

The next delivery is sent once the deploy has ended (a push during a deploy
would merge into a follow-up), plus a gap. Every deploy must succeed, with a
rebuild (3 compose commands: build, down, up -d) and merged=false.

  webhook.py URL SOCKET PUSH_CLONE FIXTURE COMPOSE_LOG REPO N WARMUP GAP RAW

The webhook secret comes from the environment (WEBHOOK_SECRET). Prints one
line per measure: "<label> n=N median_ms=... p90_ms=... max_ms=...", and the
raw samples to RAW.
"""
import calendar
import hashlib
import hmac
import http.client
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

EVENT_WAIT = 120        # seconds a deploy may take before the bench gives up


class Events:
    """A subscribed connection to the backend, read by a thread."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.s.sendall(b'{"id":1,"op":"subscribe"}\n')
        r = json.loads(self.f.readline())
        if not r.get("ok"):
            sys.exit(f"subscribe: {r}")
        self.cv = threading.Condition()
        self.jobs = {}          # job id -> dict of what was seen
        self.error = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def job(self, jid):
        return self.jobs.setdefault(jid, {"log": []})

    def run(self):
        for line in self.f:
            now = time.time_ns()
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            name, data = ev.get("event"), ev.get("data") or {}
            with self.cv:
                if name == "missed":
                    self.error = f"the subscriber missed {data.get('count')} events"
                elif name == "job.state" and data.get("op") == "deploy":
                    j = self.job(data["id"])
                    if data["state"] == "running" and "running_ns" not in j:
                        j["running_ns"] = now
                        j["started_at"] = data["started_at"]
                    if data["state"] in ("succeeded", "failed"):
                        j["end"] = data
                elif name == "job.log":
                    self.job(data["job"])["log"].append(data["line"])
                self.cv.notify_all()
        with self.cv:
            self.error = self.error or "the backend closed the event stream"
            self.cv.notify_all()

    def wait_end(self, jid):
        deadline = time.monotonic() + EVENT_WAIT
        with self.cv:
            while "end" not in self.job(jid):
                if self.error:
                    sys.exit(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    sys.exit(f"deploy job {jid} did not end within {EVENT_WAIT} s")
                self.cv.wait(left)
            return self.job(jid)


def iso_ms(s):
    """'2026-01-02T03:04:05.678Z' -> milliseconds since the epoch, exactly."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", s or "")
    if not m:
        sys.exit(f"not a time: {s!r}")
    y, mo, d, h, mi, se, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, se)) * 1000 + ms


def git(clone, *args):
    return subprocess.run(["git", "-C", clone, *args], check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True).stdout.strip()


def new_commit(clone, i):
    with open(os.path.join(clone, "VERSION"), "w") as f:
        f.write(f"bench {i} {time.time_ns()}\n")
    git(clone, "commit", "-q", "-a", "-m", f"bench delivery {i}")
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/main")
    return git(clone, "rev-parse", "HEAD")


def payload(fixture, repo, before, after):
    p = json.loads(fixture)
    owner, name = repo.split("/")
    p.update(ref="refs/heads/main", before=before, after=after, created=False,
             deleted=False, forced=False, base_ref=None)
    p["compare"] = f"https://github.com/{repo}/compare/{before[:12]}...{after[:12]}"
    commit = {"id": after, "tree_id": after, "distinct": True,
              "message": "bench delivery", "timestamp": "2026-01-01T00:00:00Z",
              "url": f"https://github.com/{repo}/commit/{after}",
              "author": {"name": "davit bench", "email": "bench@davit.invalid"},
              "committer": {"name": "davit bench", "email": "bench@davit.invalid"},
              "added": [], "removed": [], "modified": ["VERSION"]}
    p["commits"] = [commit]
    p["head_commit"] = commit
    p["repository"]["full_name"] = repo
    p["repository"]["name"] = name
    p["repository"]["owner"]["login"] = owner
    return json.dumps(p).encode()


def deliver(url, secret, body):
    u = urllib.parse.urlsplit(url)
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/bench",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": sig,
    }
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    t0 = time.time_ns()
    c.request("POST", "/hooks/github", body, headers)
    r = c.getresponse()
    reply = r.read()
    t1 = time.time_ns()
    c.close()
    if r.status != 202:
        sys.exit(f"delivery: HTTP {r.status}: {reply[:300]!r}")
    res = json.loads(reply)
    if res.get("ignored") or res.get("merged") or not isinstance(res.get("job"), int):
        sys.exit(f"delivery not deployed on its own: {res}")
    return t0, t1, res["job"]


def compose_lines(path):
    try:
        with open(path) as f:
            return [ln.split() for ln in f if ln.strip()]
    except FileNotFoundError:
        return []


def summary(label, v):
    v = sorted(v)
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    p90 = v[max(0, math.ceil(0.9 * n) - 1)]
    print(f"{label} n={n} median_ms={med:.2f} p90_ms={p90:.2f} max_ms={v[-1]:.2f}")


def main():
    if len(sys.argv) != 11:
        sys.exit(__doc__)
    url, sock, clone, fixture, clog, repo = sys.argv[1:7]
    n, warmup, gap, raw = int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9]), sys.argv[10]
    secret = os.environ["WEBHOOK_SECRET"].encode()
    with open(fixture) as f:
        fixture = f.read()
    ev = Events(sock)
    samples = {k: [] for k in ("reply", "start", "start_ev", "compose", "fetch",
                               "pull", "job")}
    step_re = re.compile(r"^deploy: (fetch|pull) done in (\d+) ms$")
    before = git(clone, "rev-parse", "HEAD")
    out = open(raw, "w")
    out.write("i job reply_ms start_ms start_ev_ms compose_ms fetch_ms pull_ms job_ms\n")
    for i in range(warmup + n):
        after = new_commit(clone, i)
        body = payload(fixture, repo, before, after)
        before = after
        ncompose = len(compose_lines(clog))
        t0, t1, jid = deliver(url, secret, body)
        j = ev.wait_end(jid)
        end = j["end"]
        if end["state"] != "succeeded":
            sys.exit(f"deploy job {jid} {end['state']}: {end.get('error')}\n"
                     + "\n".join(j["log"][-20:]))
        runs = compose_lines(clog)[ncompose:]
        # build ... up (the rebuild may ask config --services first, and
        # stop and rm instead of down): the first one is what is timed
        verbs = [r[3] if len(r) > 3 and r[1] == "-p" else None for r in runs]
        if "build" not in verbs or verbs[-1:] != ["up"]:
            sys.exit(f"deploy job {jid}: compose commands {runs}, not build ... up\n"
                     + "\n".join(j["log"][-20:]))
        steps = dict((m.group(1), int(m.group(2))) for m in
                     (step_re.match(ln) for ln in j["log"]) if m)
        row = {
            "reply": (t1 - t0) / 1e6,
            "start": iso_ms(j["started_at"]) - t0 / 1e6,
            "start_ev": (j["running_ns"] - t0) / 1e6,
            "compose": (int(runs[0][0]) - t0) / 1e6,
            "fetch": steps.get("fetch", float("nan")),
            "pull": steps.get("pull", float("nan")),
            "job": iso_ms(end["ended_at"]) - iso_ms(end["started_at"]),
        }
        out.write(f"{i} {jid} " + " ".join(f"{row[k]:.3f}" for k in samples) + "\n")
        if i >= warmup:
            for k in samples:
                samples[k].append(row[k])
        time.sleep(gap)
    out.close()
    for k in samples:
        summary(k, samples[k])


if __name__ == "__main__":
    main()
