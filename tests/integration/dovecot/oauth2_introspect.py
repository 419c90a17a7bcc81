#!/usr/bin/env python3
"""Minimal RFC 7662 token introspection endpoint for the test Dovecot's oauth2 passdb.

usage: oauth2_introspect.py PORT TOKENS_FILE

Listens on 127.0.0.1:PORT only. TOKENS_FILE has "<token> <user>" lines (re-read on every request).
POST /introspect with form field token=... (Dovecot introspection_mode = post), or GET with
?token=... or an "Authorization: Bearer" header, answers {"active": true, "username": USER}
for a known token and {"active": false} otherwise.

POST /token is a token endpoint for the refresh-token grant (RFC 6749 §6): the refresh token
"<user>-refresh" (client_id "crm-test") gets a new access token, which is appended to
TOKENS_FILE so the introspection above accepts it; anything else gets 400 invalid_grant.
"""
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
TOKENS = sys.argv[2]


def lookup(token):
    try:
        with open(TOKENS, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0] == token:
                    return parts[1]
    except OSError:
        pass
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, token):
        user = lookup(token) if token else None
        body = {"active": True, "username": user, "scope": "mail"} if user else {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def token_from_header(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        self.answer(q.get("token", [None])[0] or self.token_from_header())

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        if urlparse(self.path).path == "/token":
            refresh = form.get("refresh_token", [""])[0]
            client = form.get("client_id", [""])[0]
            if (form.get("grant_type", [""])[0] != "refresh_token" or client != "crm-test"
                    or not refresh.endswith("-refresh")):
                self.send_json(400, {"error": "invalid_grant",
                                     "error_description": "unknown refresh token"})
                return
            user = refresh[: -len("-refresh")]
            token = "%s-fresh-%s" % (user, secrets.token_hex(8))
            with open(TOKENS, "a", encoding="utf-8") as f:
                f.write("%s %s\n" % (token, user))
            self.send_json(200, {"access_token": token, "token_type": "Bearer",
                                 "expires_in": 3600})
            return
        self.answer(form.get("token", [None])[0] or self.token_from_header())

    def log_message(self, fmt, *args):
        sys.stderr.write("oauth2_introspect: " + (fmt % args) + "\n")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
