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

Two provider emulations of the same grant, written from the providers' public documentation:
  POST /google/token     Google's token endpoint (https://oauth2.googleapis.com/token), as
                         "Refreshing an access token (offline access)" in
                         https://developers.google.com/identity/protocols/oauth2/native-app
                         shows it: {"access_token", "expires_in": 3599, "scope",
                         "token_type": "Bearer"}, no new refresh token; a revoked or unknown one
                         is 400 {"error": "invalid_grant", "error_description": "Token has been
                         expired or revoked."}.
  POST /microsoft/token  Microsoft identity platform v2.0
                         (https://login.microsoftonline.com/common/oauth2/v2.0/token), as
                         "Refresh the access token" in https://learn.microsoft.com/en-us/entra/
                         identity-platform/v2-oauth2-auth-code-flow shows it: {"access_token",
                         "token_type": "Bearer", "expires_in": 3600, "ext_expires_in", "scope",
                         "refresh_token"}: a NEW refresh token every time. Stricter than the real
                         service (whose old refresh tokens stay valid until they expire): the
                         previous one is refused at once, so a client that does not keep the new
                         one is caught. Errors as AADSTS: 400 {"error": "invalid_grant",
                         "error_description": "AADSTS70000: ...", "error_codes": [70000], ...}.
  Both want client_id "crm-test". The current refresh token per user of /microsoft/token is kept
  in TOKENS_FILE.refresh ("<user> <token>" lines), starting as "<user>-refresh"; every request to
  either is appended to TOKENS_FILE.requests as "<path> <user or -> <status>".
"""
import json
import os
import secrets
import threading
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
TOKENS = sys.argv[2]
LOCK = threading.Lock()


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

    def issue(self, user):
        token = "%s-fresh-%s" % (user, secrets.token_hex(8))
        with open(TOKENS, "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (token, user))
        return token

    def note(self, path, user, status):
        with open(TOKENS + ".requests", "a", encoding="utf-8") as f:
            f.write("%s %s %d\n" % (path, user or "-", status))

    def provider_token(self, path, form):
        refresh = form.get("refresh_token", [""])[0]
        client = form.get("client_id", [""])[0]
        grant_ok = form.get("grant_type", [""])[0] == "refresh_token" and client == "crm-test"
        if path == "/google/token":
            user = refresh[: -len("-refresh")] if refresh.endswith("-refresh") else None
            if not grant_ok or not user:
                self.note(path, None, 400)
                self.send_json(400, {"error": "invalid_grant",
                                     "error_description": "Token has been expired or revoked."})
                return
            self.note(path, user, 200)
            self.send_json(200, {"access_token": self.issue(user), "expires_in": 3599,
                                 "scope": "https://mail.google.com/", "token_type": "Bearer"})
            return
        current = {}
        try:
            with open(TOKENS + ".refresh", encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        current[parts[0]] = parts[1]
        except OSError:
            pass
        user = refresh.split("-refresh", 1)[0] if "-refresh" in refresh else None
        valid = current.get(user, "%s-refresh" % user) if user else None
        if not grant_ok or not user or refresh != valid:
            self.note(path, user, 400)
            self.send_json(400, {"error": "invalid_grant",
                                 "error_description": "AADSTS70000: The provided grant has "
                                 "expired due to it being revoked, a fresh auth token is "
                                 "needed.",
                                 "error_codes": [70000], "timestamp": "2026-12-03 10:00:00Z",
                                 "trace_id": "0", "correlation_id": "0"})
            return
        rotated = "%s-refresh-%s" % (user, secrets.token_hex(6))
        current[user] = rotated
        with open(TOKENS + ".refresh.new", "w", encoding="utf-8") as f:
            for u, t in current.items():
                f.write("%s %s\n" % (u, t))
        os.replace(TOKENS + ".refresh.new", TOKENS + ".refresh")
        self.note(path, user, 200)
        self.send_json(200, {"token_type": "Bearer",
                             "scope": "https://outlook.office.com/IMAP.AccessAsUser.All "
                                      "https://outlook.office.com/SMTP.Send offline_access",
                             "expires_in": 3600, "ext_expires_in": 3600,
                             "access_token": self.issue(user), "refresh_token": rotated})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        path = urlparse(self.path).path
        if path in ("/google/token", "/microsoft/token"):
            with LOCK:
                self.provider_token(path, form)
            return
        if path == "/token":
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
