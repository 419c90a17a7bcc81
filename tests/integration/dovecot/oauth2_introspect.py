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
  Both want client_id "crm-test".

Consent (how an admin gets the first refresh token; crm-mailctl accounts oauth):
  GET /google/auth       Google's authorization endpoint for installed apps, as "OAuth 2.0 for
                         Mobile & Desktop Apps" (developers.google.com/identity/protocols/oauth2/
                         native-app) describes it: response_type=code, a loopback redirect_uri
                         (http://127.0.0.1:PORT/), code_challenge with code_challenge_method=S256
                         (PKCE), state, access_type=offline and login_hint. The user (the test,
                         playing the browser) is taken to consent at once: 302 to
                         redirect_uri?code=...&state=...&scope=...; with &emu_deny=1 added, to
                         redirect_uri?error=access_denied&state=... as when the user refuses.
  POST /google/token     grant_type=authorization_code with code, redirect_uri (the same) and
                         code_verifier (checked against the S256 challenge): {"access_token",
                         "expires_in": 3599, "refresh_token": "<user>-refresh", "scope",
                         "token_type"}; a wrong verifier or a code used twice is 400
                         invalid_grant.
  POST /microsoft/devicecode  the device authorization endpoint of "Microsoft identity platform
                         and the OAuth 2.0 device authorization grant flow" (learn.microsoft.com/
                         entra/identity-platform/v2-oauth2-device-code): client_id and scope (with
                         offline_access) give {"device_code", "user_code", "verification_uri",
                         "expires_in": 900, "interval": 1, "message"}.
  POST /microsoft/device the user's side, for the test: user_code, user and action=approve|deny.
  POST /microsoft/token  grant_type=urn:ietf:params:oauth:grant-type:device_code: 400
                         authorization_pending until the user answers, slow_down when polled
                         faster than the interval, authorization_declined, expired_token; then
                         the tokens with a refresh token that becomes the user's current one. The current refresh token per user of /microsoft/token is kept
  in TOKENS_FILE.refresh ("<user> <token>" lines), starting as "<user>-refresh"; every request to
  either is appended to TOKENS_FILE.requests as "<path> <user or -> <status>".
"""
import base64
import hashlib
import json
import os
import time
import secrets
import threading
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
TOKENS = sys.argv[2]
LOCK = threading.Lock()
CODES = {}    # Google authorization code -> (user, challenge, redirect_uri)
DEVICES = {}  # Microsoft device_code -> {"user_code", "user", "answer", "last_poll", "expires"}


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
        if urlparse(self.path).path == "/google/auth":
            one = {k: v[0] for k, v in q.items()}
            redirect = one.get("redirect_uri", "")
            ok = (one.get("client_id") == "crm-test" and one.get("response_type") == "code"
                  and redirect.startswith("http://127.0.0.1:")
                  and one.get("code_challenge_method") == "S256" and one.get("code_challenge")
                  and one.get("access_type") == "offline" and one.get("state"))
            if not ok:
                self.send_json(400, {"error": "invalid_request", "error_description":
                                     "Error 400: invalid_request"})
                return
            user = one.get("login_hint", "nobody").split("@")[0]
            if one.get("emu_deny"):
                target = "%s?error=access_denied&state=%s" % (redirect, one["state"])
            else:
                code = "4/" + secrets.token_hex(12)
                with LOCK:
                    CODES[code] = (user, one["code_challenge"], redirect)
                target = "%s?state=%s&code=%s&scope=%s" % (
                    redirect, one["state"], code, "https%3A//mail.google.com/")
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
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

    @staticmethod
    def current_refresh():
        current = {}
        try:
            with open(TOKENS + ".refresh", encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        current[parts[0]] = parts[1]
        except OSError:
            pass
        return current

    def set_refresh(self, user, token):
        current = self.current_refresh()
        current[user] = token
        with open(TOKENS + ".refresh.new", "w", encoding="utf-8") as f:
            for u, t in current.items():
                f.write("%s %s\n" % (u, t))
        os.replace(TOKENS + ".refresh.new", TOKENS + ".refresh")

    def google_code(self, path, form):
        code = form.get("code", [""])[0]
        entry = CODES.pop(code, None)
        verifier = form.get("code_verifier", [""])[0]
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if (not entry or form.get("client_id", [""])[0] != "crm-test"
                or form.get("redirect_uri", [""])[0] != entry[2] or challenge != entry[1]):
            self.note(path + "#code", entry[0] if entry else None, 400)
            self.send_json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            return
        user = entry[0]
        self.note(path + "#code", user, 200)
        self.send_json(200, {"access_token": self.issue(user), "expires_in": 3599,
                             "refresh_token": "%s-refresh" % user,
                             "scope": "https://mail.google.com/", "token_type": "Bearer"})

    def microsoft_device_poll(self, path, form):
        dev = DEVICES.get(form.get("device_code", [""])[0])

        def error(code, desc):
            self.note(path + "#device", dev["user"] if dev else None, 400)
            self.send_json(400, {"error": code, "error_description": desc,
                                 "error_codes": [70016], "timestamp": "2026-12-03 10:00:00Z",
                                 "trace_id": "0", "correlation_id": "0"})
        if not dev or form.get("client_id", [""])[0] != "crm-test":
            return error("bad_verification_code", "AADSTS70019: Verification code unknown.")
        now = time.monotonic()
        if now > dev["expires"]:
            return error("expired_token", "AADSTS70020: The provided value for the input "
                         "parameter 'device_code' is not valid. This device code has expired.")
        if dev["answer"] is None:
            too_fast = now - dev["last_poll"] < 0.9
            dev["last_poll"] = now
            if too_fast:
                return error("slow_down", "polled faster than the interval")
            return error("authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. "
                         "Authorization is pending. Continue polling.")
        if dev["answer"] == "deny":
            return error("authorization_declined", "AADSTS70000: The user declined.")
        del DEVICES[form.get("device_code", [""])[0]]
        user = dev["user"]
        rotated = "%s-refresh-%s" % (user, secrets.token_hex(6))
        self.set_refresh(user, rotated)
        self.note(path + "#device", user, 200)
        self.send_json(200, {"token_type": "Bearer", "scope": dev["scope"], "expires_in": 3600,
                             "ext_expires_in": 3600, "access_token": self.issue(user),
                             "refresh_token": rotated})

    def provider_token(self, path, form):
        grant = form.get("grant_type", [""])[0]
        if path == "/google/token" and grant == "authorization_code":
            return self.google_code(path, form)
        if path == "/microsoft/token" and grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self.microsoft_device_poll(path, form)
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
        current = self.current_refresh()
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
        self.set_refresh(user, rotated)
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
        if path == "/microsoft/devicecode":
            scope = form.get("scope", [""])[0]
            if form.get("client_id", [""])[0] != "crm-test" or "offline_access" not in scope.split():
                self.send_json(400, {"error": "invalid_scope" if form.get("client_id", [""])[0]
                                     == "crm-test" else "invalid_client",
                                     "error_description": "AADSTS70011: The provided value for "
                                     "the input parameter 'scope' is not valid."})
                return
            device = secrets.token_hex(16)
            user_code = "%s-%s" % (secrets.token_hex(2).upper(), secrets.token_hex(2).upper())
            with LOCK:
                DEVICES[device] = {"user_code": user_code, "user": None, "answer": None,
                                   "last_poll": 0.0, "expires": time.monotonic() + 900,
                                   "scope": scope}
            uri = "http://127.0.0.1:%d/microsoft/device" % PORT
            self.send_json(200, {"device_code": device, "user_code": user_code,
                                 "verification_uri": uri, "expires_in": 900, "interval": 1,
                                 "message": "To sign in, use a web browser to open the page %s "
                                            "and enter the code %s to authenticate." % (
                                                uri, user_code)})
            return
        if path == "/microsoft/device":
            code = form.get("user_code", [""])[0]
            with LOCK:
                dev = next((d for d in DEVICES.values() if d["user_code"] == code), None)
                if dev:
                    dev["user"] = form.get("user", ["nobody"])[0]
                    dev["answer"] = form.get("action", ["approve"])[0]
            self.send_json(200 if dev else 404, {"ok": bool(dev)})
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
