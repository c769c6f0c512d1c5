#!/usr/bin/env python3
"""A scripted stand-in for davit-backend, for tests of davit-frontend.

Speaks the backend protocol on a Unix socket (one JSON line per message),
answers the frontend's handshake and the ops the API uses, and misbehaves on
request: floods, garbage, errors. Usage: fake_backend.py SOCKET LISTEN
Ops and what they do here:
  hello, frontend.config, tls.get ({"bundle": null}: plain HTTP; the PEM
  files $TLS_CERT and $TLS_KEY as a bundle when both are set), subscribe,
  auth.login (password "pw")
  project.get, jobs.list: small results; git.status, deploys.list:
  "unavailable"; services.list: {"engine":{...},"services":[]}; state.get:
  those five at once, git and deploys null
  git.fetch: {"job":1} and a job.state event
  git.pull: FLOOD job.log events (n=1..FLOOD), then {"job":2}
  deploy: a backend "missed" event and a "secret.internal" event, then {"job":3}
  job.get 555: error "internal"; 666: a line that is not JSON; 777: a reply
  to an id nobody asked, then the real one; 888: {"id":888} after SLOW
  seconds (other requests are answered meanwhile)
  auth.login with password "slow" ("slow-wrong"): the reply to a right
  (wrong) password after SLOW seconds: argon2id takes hundreds of ms
  webhook.push: {"queued":true,"job":4}, after LATE seconds for a delivery
  whose id starts with "late"; webhook.rejected: {}
  job.get 4401 / 4402: an engine.state event (Docker unreachable / reachable
  again) then not_found; services.list's engine follows
  job.get 4403: a job.log event, then the job, both with "caf\u00e9" (json.dumps
  escapes it: the frontend passes those bytes on as they are)
  job.get 4404: a projects.changed event (the frontend asks frontend.config
  again), then not_found
  projects.list: one small object per project of frontend.config
frontend.config's projects are read from $PROJECTS_FILE at each call (JSON:
{"single": bool, "projects": [{"name", "webhook_secret"}...]}); without it,
one project "app" with $WEBHOOK_SECRET (none when unset), single. Its
trusted_proxies are $TRUSTED_PROXIES (none when unset).
Every request line is appended to SOCKET.requests for the test to read.
"""
import asyncio
import json
import os
import sys

SOCK, LISTEN = sys.argv[1], sys.argv[2]
FLOOD = int(os.environ.get("FLOOD", "2000"))
SLOW = float(os.environ.get("SLOW", "1"))
LATE = float(os.environ.get("LATE", "10"))
subscribers = set()
engine = {"reachable": True, "error": None, "stale_ms": 0, "api_version": "1.41"}


def line(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def ok(rid, result):
    return line({"id": rid, "ok": True, "result": result})


def err(rid, code, msg):
    return line({"id": rid, "ok": False, "error": {"code": code, "message": msg}})


def event(name, data):
    return line({"event": name, "data": data})


def projects():
    """frontend.config's "single" and "projects", from $PROJECTS_FILE"""
    path = os.environ.get("PROJECTS_FILE")
    if path:
        with open(path) as f:
            p = json.load(f)
        return p["single"], p["projects"]
    return True, [{"name": "app", "webhook_secret": os.environ.get("WEBHOOK_SECRET")}]


def tls_bundle():
    """tls.get's bundle: "davit-tls CERTLEN KEYLEN\n" then both files"""
    if not os.environ.get("TLS_CERT") or not os.environ.get("TLS_KEY"):
        return None
    with open(os.environ["TLS_CERT"]) as f:
        cert = f.read()
    with open(os.environ["TLS_KEY"]) as f:
        key = f.read()
    return "davit-tls %d %d\n%s%s" % (len(cert.encode()), len(key.encode()),
                                      cert, key)


def broadcast(data):
    for w in list(subscribers):
        w.write(data)


tasks = set()


def spawn(coro):
    """runs coro beside the link; the set keeps it from being collected"""
    t = asyncio.get_running_loop().create_task(coro)
    tasks.add(t)
    t.add_done_callback(tasks.discard)


async def later(writer, data, delay=None):
    """data written after SLOW seconds, while the link goes on"""
    await asyncio.sleep(SLOW if delay is None else delay)
    if not writer.is_closing():
        writer.write(data)


async def handle(reader, writer):
    try:
        while True:
            raw = await reader.readline()
            if not raw:
                break
            with open(SOCK + ".requests", "ab") as f:
                f.write(raw)
            req = json.loads(raw)
            rid, op, args = req["id"], req["op"], req.get("args") or {}
            if op == "hello":
                writer.write(ok(rid, {"protocol": 1, "version": "fake", "role": "frontend"}))
            elif op == "frontend.config":
                single, plist = projects()
                writer.write(ok(rid, {"listen": LISTEN,
                                      "single": single, "projects": plist,
                                      "session_idle": 3600, "session_max": 43200,
                                      "cookie_secure": False, "github_repo": None,
                                      "trusted_proxies": os.environ.get("TRUSTED_PROXIES"),
                                      "branch": "main", "www_dir": None}))
            elif op == "tls.get":
                writer.write(ok(rid, {"bundle": tls_bundle()}))
            elif op == "subscribe":
                subscribers.add(writer)
                writer.write(ok(rid, {"subscribed": True}))
            elif op == "auth.login":
                if args.get("password") == "slow":
                    spawn(later(writer, ok(rid, {"ok": True})))
                elif args.get("password") == "slow-wrong":
                    spawn(later(writer, err(rid, "unauthorized", "wrong password")))
                elif args.get("password") == "pw":
                    writer.write(ok(rid, {"ok": True}))
                else:
                    writer.write(err(rid, "unauthorized", "wrong password"))
            elif op == "projects.list":
                writer.write(ok(rid, {"projects": [
                    {"name": p["name"], "repo": "file:///fake/" + p["name"],
                     "branch": "main", "local": None, "origin": None,
                     "update_available": False,
                     "services": {"running": 1, "total": 2},
                     "last_deploy": None, "error": None}
                    for p in sorted(projects()[1], key=lambda p: p["name"])]}))
            elif op == "project.get":
                writer.write(ok(rid, {"services": ["web"], "branch": "main"}))
            elif op == "jobs.list":
                writer.write(ok(rid, []))
            elif op == "services.list":
                writer.write(ok(rid, {"engine": engine, "services": []}))
            elif op == "state.get":     # the parts above, the unavailable ones null
                writer.write(ok(rid, {"project": {"services": ["web"], "branch": "main"},
                                      "git": None,
                                      "services": {"engine": engine, "services": []},
                                      "jobs": [], "deploys": None}))
            elif op in ("git.status", "deploys.list"):
                writer.write(err(rid, "unavailable", "not in the fake"))
            elif op == "git.fetch":
                broadcast(event("job.state", {"id": 1, "op": "git.fetch", "state": "queued"}))
                writer.write(ok(rid, {"job": 1}))
            elif op == "git.pull":
                pad = "x" * 150
                for n in range(1, FLOOD + 1):
                    broadcast(event("job.log", {"job": 2, "n": n, "line": pad}))
                    if n % 100 == 0:
                        await writer.drain()
                writer.write(ok(rid, {"job": 2}))
            elif op == "deploy":
                broadcast(event("missed", {"count": 7}))
                broadcast(event("secret.internal", {"token": "must-not-pass"}))
                writer.write(ok(rid, {"job": 3}))
            elif op == "job.get":
                job = args.get("job")
                if job == 555:
                    writer.write(err(rid, "internal", "the fake broke"))
                elif job == 666:
                    writer.write(b"this is not a reply\n")
                elif job == 888:
                    spawn(later(writer, ok(rid, {"id": 888})))
                elif job in (4401, 4402):
                    engine.update(reachable=job == 4402, api_version="1.41",
                                  error=None if job == 4402 else
                                  "connect /var/run/docker.sock: refused",
                                  stale_ms=0 if job == 4402 else 5000)
                    broadcast(event("engine.state", engine))
                    writer.write(err(rid, "not_found", "no job %s" % job))
                elif job == 4403:         # a result and an event with an escape:
                    broadcast(event("job.log", {"job": 4403, "n": 1, "line": "caf\u00e9"}))
                    writer.write(ok(rid, {"id": 4403, "line": "caf\u00e9"}))
                elif job == 4404:
                    broadcast(event("projects.changed", {}))
                    writer.write(err(rid, "not_found", "no job %s" % job))
                elif job == 777:
                    writer.write(ok(rid + 1000, {"stray": True}))
                    writer.write(ok(rid, {"id": 777}))
                else:
                    writer.write(err(rid, "not_found", "no job %s" % job))
            elif op == "webhook.push":
                reply = ok(rid, {"queued": True, "job": 4})
                if args.get("delivery", "").startswith("late"):
                    spawn(later(writer, reply, LATE))
                else:
                    writer.write(reply)
            elif op == "webhook.rejected":
                writer.write(ok(rid, {}))
            else:
                writer.write(err(rid, "unknown_op", "unknown op " + op))
            await writer.drain()
    except (ConnectionError, json.JSONDecodeError, KeyError):
        pass
    finally:
        subscribers.discard(writer)
        writer.close()


async def main():
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    server = await asyncio.start_unix_server(handle, path=SOCK)
    os.chmod(SOCK, 0o666)
    async with server:
        await server.serve_forever()


asyncio.run(main())
