#!/usr/bin/env python3
"""A fake GitHub REST API for davit's tests, on 127.0.0.1:PORT (stdlib, plus
python3-cryptography for RS256).

    fake_github.py --port P --public-key PEM --app-id ID --repo OWNER/NAME
                   --installation-id N --userfile FILE [--personal-token TOK]

Answers, as GitHub does (only what davit uses):
  GET  /repos/OWNER/NAME/installation                  JWT  -> {"id": N, ...}
  POST /app/installations/N/access_tokens              JWT  -> 201 {"token","expires_at",...}
  POST /repos/OWNER/NAME/statuses/SHA   installation or personal token -> 201
Every JWT is checked with the App's public key: alg RS256, iss = the App ID,
iat not in the future (60 s of leeway), exp after now and at most 10 minutes
after iat, signature.  A bad one gets 401 with GitHub's message.

Installation tokens expire after token_ttl seconds (real time) and can be
expired at once (POST /_test/expire).  FILE is kept as a lighttpd "plain"
userfile holding `x-access-token:TOKEN` for the newest installation token
currently valid (else the personal token), so that the smart-HTTP git server
(lib.sh's start_git_http) accepts only a valid token: lighttpd reads that
file on each request (checked by hand with lighttpd 1.4.69).

Test controls (no auth, loopback only):
  GET  /_test/statuses   the statuses posted, in order (JSON list)
  GET  /_test/requests   every API request: method, path, status, auth kind
  GET  /_test/tokens     tokens issued: repositories, permissions, expiry
  POST /_test/expire     every installation token issued so far is expired
  POST /_test/config     merges JSON: installed (bool), token_ttl (s),
                         reported_ttl (s, what expires_at says; default
                         token_ttl), date_offset (s, added to Date:),
                         expiration_header (str: github-authentication-
                         token-expiration on every reply), fail (list of
                         {"method","path" (regex),"status","headers","times"}),
                         git_accept (bool, default true; false: the git
                         server takes no token at all, as when the App lacks
                         Contents: read)
"""
import argparse
import base64
import datetime
import email.utils
import http.server
import json
import os
import re
import secrets
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--public-key", required=True)
ap.add_argument("--app-id", required=True)
ap.add_argument("--repo", required=True)
ap.add_argument("--installation-id", type=int, required=True)
ap.add_argument("--userfile", required=True)
ap.add_argument("--personal-token", default=None)
ARGS = ap.parse_args()

with open(ARGS.public_key, "rb") as f:
    PUBKEY = serialization.load_pem_public_key(f.read())

LOCK = threading.RLock()
CONFIG = {"installed": True, "token_ttl": 3600, "reported_ttl": None,
          "date_offset": 0, "expiration_header": None, "fail": [],
          "git_accept": True}
TOKENS = {}        # token -> {"expires": epoch, "permissions", "repositories"}
ISSUED = []        # what /_test/tokens shows (no token values)
STATUSES = []
REQUESTS = []
GRANTABLE = {"contents": {"read"}, "statuses": {"write"}, "metadata": {"read"}}


def write_userfile():
    """the git server's userfile (atomic rename): the newest installation
    token still valid, else the personal token.  lighttpd's plain userfile
    holds one password per user (the first line for a user wins), so an
    older token that is still valid is refused by the git server: stricter
    than GitHub, which only matters if davit used a token it had replaced."""
    now = time.time()
    valid = [t for t, v in TOKENS.items() if v["expires"] > now]
    if not CONFIG["git_accept"]:
        line = secrets.token_hex(20)
    elif valid:
        line = valid[-1]        # dicts keep insertion order: the newest
    elif ARGS.personal_token:
        line = ARGS.personal_token
    else:   # never an empty file: a password nobody knows
        line = secrets.token_hex(20)
    tmp = ARGS.userfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("x-access-token:%s\n" % line)
    os.chmod(tmp, 0o644)
    os.replace(tmp, ARGS.userfile)


def expiry_loop():
    """drops tokens from the userfile as they expire"""
    valid = None
    while True:
        with LOCK:
            now = time.time()
            cur = sorted(t for t, v in TOKENS.items() if v["expires"] > now)
            if cur != valid:
                write_userfile()
                valid = cur
        time.sleep(0.2)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_jwt(auth):
    """None when auth is a valid App JWT, else GitHub's message"""
    if not auth or not auth.startswith("Bearer "):
        return "A JSON web token could not be decoded"
    parts = auth[len("Bearer "):].split(".")
    if len(parts) != 3:
        return "A JSON web token could not be decoded"
    try:
        header = json.loads(b64d(parts[0]))
        claims = json.loads(b64d(parts[1]))
        sig = b64d(parts[2])
    except ValueError:
        return "A JSON web token could not be decoded"
    if header.get("alg") != "RS256":
        return "'alg' must be RS256"
    if str(claims.get("iss")) != ARGS.app_id:
        return "'Issuer' claim ('iss') must be an Integer"
    now = int(time.time())
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        return "Missing 'issued at' or 'expiration time' claim"
    if iat > now + 60:
        return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
    if exp <= now:
        return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    if exp - iat > 600:
        return "'Expiration time' claim ('exp') is too far in the future"
    try:
        PUBKEY.verify(sig, (parts[0] + "." + parts[1]).encode(),
                      padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "A JSON web token could not be decoded"
    return None


def token_of(auth):
    """the token of "token X" or "Bearer X", or None"""
    if not auth:
        return None
    for p in ("token ", "Bearer "):
        if auth.startswith(p):
            return auth[len(p):]
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(time.time() + CONFIG["date_offset"],
                                      usegmt=True)

    def reply(self, code, doc, headers=None, auth_kind="none"):
        body = json.dumps(doc).encode()
        with LOCK:
            REQUESTS.append({"method": self.command, "path": self.path,
                             "status": code, "auth": auth_kind})
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if CONFIG["expiration_header"]:
            self.send_header("github-authentication-token-expiration",
                             CONFIG["expiration_header"])
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def injected(self):
        """a configured failure for this request, answered; True if so"""
        with LOCK:
            for f in CONFIG["fail"]:
                if f.get("times", 1) <= 0:
                    continue
                if f.get("method", self.command) != self.command:
                    continue
                if not re.search(f["path"], self.path):
                    continue
                f["times"] = f.get("times", 1) - 1
                break
            else:
                return False
        hdrs = dict(f.get("headers", {}))
        for k, v in list(hdrs.items()):
            if v == "NOW+1":    # x-ratelimit-reset a second from now
                hdrs[k] = str(int(time.time()) + 1)
        self.reply(f["status"], {"message": f.get("message", "injected")},
                   hdrs, "injected")
        return True

    def do_GET(self):
        if self.path == "/_test/statuses":
            with LOCK:
                return self.reply(200, STATUSES)
        if self.path == "/_test/requests":
            with LOCK:
                return self.reply(200, list(REQUESTS))
        if self.path == "/_test/tokens":
            with LOCK:
                return self.reply(200, ISSUED)
        if self.injected():
            return
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/installation", self.path)
        if m:
            why = check_jwt(self.headers.get("Authorization"))
            if why:
                return self.reply(401, {"message": why}, auth_kind="jwt")
            if m.group(1) != ARGS.repo or not CONFIG["installed"]:
                return self.reply(404, {"message": "Not Found"},
                                  auth_kind="jwt")
            return self.reply(200, {"id": ARGS.installation_id,
                                    "app_id": int(ARGS.app_id)
                                    if ARGS.app_id.isdigit() else 1,
                                    "account": {"login":
                                                ARGS.repo.split("/")[0]}},
                              auth_kind="jwt")
        return self.reply(404, {"message": "Not Found"})

    def do_POST(self):
        body = self.body()
        if self.path == "/_test/config":
            with LOCK:
                CONFIG.update(body or {})
                write_userfile()
            return self.reply(200, CONFIG)
        if self.path == "/_test/expire":
            with LOCK:
                for v in TOKENS.values():
                    v["expires"] = 0
                write_userfile()
            return self.reply(200, {})
        if self.injected():
            return
        if body is None:
            return self.reply(400, {"message": "Problems parsing JSON"})
        m = re.fullmatch(r"/app/installations/(\d+)/access_tokens", self.path)
        if m:
            return self.access_token(int(m.group(1)), body)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})",
                         self.path)
        if m:
            return self.status(m.group(1), m.group(2), body)
        return self.reply(404, {"message": "Not Found"})

    def access_token(self, inst, body):
        why = check_jwt(self.headers.get("Authorization"))
        if why:
            return self.reply(401, {"message": why}, auth_kind="jwt")
        if inst != ARGS.installation_id or not CONFIG["installed"]:
            return self.reply(404, {"message": "Not Found"}, auth_kind="jwt")
        repos = body.get("repositories")
        perms = body.get("permissions")
        if repos != [ARGS.repo.split("/")[1]]:
            return self.reply(422, {"message": "repositories must be [%r]" %
                                    ARGS.repo.split("/")[1]},
                              auth_kind="jwt")
        if not isinstance(perms, dict) or perms.get("contents") != "read" or \
                any(GRANTABLE.get(k) is None or v not in GRANTABLE[k]
                    for k, v in perms.items()):
            return self.reply(422, {"message": "The permissions requested "
                                    "are not granted to this installation."},
                              auth_kind="jwt")
        tok = "ghs_" + secrets.token_hex(18)
        now = time.time()
        reported = CONFIG["reported_ttl"] or CONFIG["token_ttl"]
        expires_at = datetime.datetime.fromtimestamp(
            int(now + reported), datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        with LOCK:
            TOKENS[tok] = {"expires": now + CONFIG["token_ttl"],
                           "permissions": perms}
            ISSUED.append({"n": len(ISSUED) + 1, "repositories": repos,
                           "permissions": perms, "expires_at": expires_at})
            write_userfile()
        return self.reply(201, {"token": tok, "expires_at": expires_at,
                                "permissions": perms,
                                "repository_selection": "selected"},
                          auth_kind="jwt")

    def status(self, repo, sha, body):
        tok = token_of(self.headers.get("Authorization"))
        kind = "none"
        with LOCK:
            t = TOKENS.get(tok)
            if t and t["expires"] > time.time() and \
                    t["permissions"].get("statuses") == "write":
                kind = "installation"
            elif tok and tok == ARGS.personal_token:
                kind = "personal"
        if kind == "none":
            return self.reply(401, {"message": "Bad credentials"})
        if repo != ARGS.repo:
            return self.reply(404, {"message": "Not Found"}, auth_kind=kind)
        if body.get("state") not in ("pending", "success", "failure",
                                     "error") or \
                len(body.get("description") or "") > 140:
            return self.reply(422, {"message": "Validation Failed"},
                              auth_kind=kind)
        rec = {"sha": sha, "state": body.get("state"),
               "context": body.get("context", "default"),
               "description": body.get("description"),
               "target_url": body.get("target_url"), "auth": kind}
        with LOCK:
            STATUSES.append(rec)
        return self.reply(201, dict(rec, id=len(STATUSES)), auth_kind=kind)


write_userfile()
threading.Thread(target=expiry_loop, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port),
                                Handler).serve_forever()
