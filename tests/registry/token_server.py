#!/usr/bin/env python3
"""tests/registry/token_server.py — a registry behind Bearer tokens, on loopback.

Docker Hub's way of asking for credentials, small enough to read: it fronts a
plain docker-registry (BACKEND) and answers

  GET /token?service=…&scope=repository:NAME:ACTIONS
      anonymous            → a token allowing "pull"
      Basic USER:PASS      → a token allowing "pull,push" (a wrong password: 401)
  /v2/…  with "Authorization: Bearer <a token it issued, for that repository
         and action>" → passed on to BACKEND; otherwise 401 with
         WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",
                           service="skiff-test",scope="repository:NAME:ACTION"

Usage: token_server.py BACKEND PORT_FILE [USER:PASS]
It listens on a free port of 127.0.0.1, writes the port to PORT_FILE, and logs
one line per request on stderr. Lesson: lessons/05-images. Test fixture only.
"""
import base64
import http.client
import http.server
import json
import re
import secrets
import sys
import threading
import urllib.parse

BACKEND, PORT_FILE = sys.argv[1], sys.argv[2]
USER = sys.argv[3] if len(sys.argv) > 3 else None
SERVICE = "skiff-test"
TOKENS = {}  # token → (repository or "", set of actions)
LOCK = threading.Lock()
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def wanted(method, path):
    """(repository, action) a /v2/ request needs; ("", "") for /v2/ itself."""
    m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", path)
    if not m:
        return "", ""
    return m.group(1), "pull" if method in ("GET", "HEAD") else "push"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))
        sys.stderr.flush()

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        scope = query.get("scope", [""])[0]
        repository = scope.split(":")[1] if scope.count(":") == 2 else ""
        actions = {"pull"}
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            if base64.b64decode(auth[6:]).decode() != USER:
                return self.reply(401, b'{"details":"incorrect username or password"}')
            actions = {"pull", "push"}
        token = secrets.token_hex(16)
        with LOCK:
            TOKENS[token] = (repository, actions)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.reply(200, body, [("Content-Type", "application/json")])

    def allowed(self, repository, action):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with LOCK:
            granted = TOKENS.get(auth[7:])
        if granted is None:
            return False
        return repository == "" or (granted[0] == repository and action in granted[1])

    def refuse(self, repository, action):
        realm = "http://127.0.0.1:%d/token" % self.server.server_port
        challenge = 'Bearer realm="%s",service="%s"' % (realm, SERVICE)
        if repository:
            challenge += ',scope="repository:%s:%s"' % (repository, action)
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
        self.reply(401, body, [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])

    def forward(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"authorization"}}
        conn = http.client.HTTPConnection(BACKEND, timeout=60)
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        out = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        conn.close()
        self.send_response(r.status)
        for k, v in out:
            self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length", str(len(data))))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        if self.path.startswith("/token"):
            return self.token()
        repository, action = wanted(self.command, self.path)
        if not self.allowed(repository, action):
            return self.refuse(repository, action)
        self.forward()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_port))
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
