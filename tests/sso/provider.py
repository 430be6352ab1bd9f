"""A real, small OpenID Connect provider on loopback for the single sign-on tests.

A WSGI app (werkzeug) served in a thread, with its own RSA keys (joserfc): a discovery document, JWKS,
an authorisation endpoint that signs in `provider.person` at once (the test chooses who), a token endpoint
that checks the client's secret, the single-use code, the redirect URI and the PKCE verifier (S256), and an
end-session endpoint. Tests bend it to forge what a hostile or broken provider would send: `claims` overrides
the ID token's claims, `sign_with` signs with a key it does not publish, `down` makes every endpoint fail.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "tracker-client"
CLIENT_SECRET = "tracker-secret-for-tests"


_KEYS: dict[tuple[str, str], RSAKey] = {}


def new_key(kid: str, owner: str = "provider") -> RSAKey:
    """An RSA signing key with this key id; made once per test session for each (kid, owner), since making
    one is slow. A different `owner` gives a different key with the same id (a forger's)."""
    if (kid, owner) not in _KEYS:
        _KEYS[(kid, owner)] = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                                                  private=True)
    return _KEYS[(kid, owner)]


@dataclass
class Provider:
    url: str = ""
    #: Published keys; the first signs.
    keys: list = field(default_factory=list)
    person: dict = field(default_factory=dict)
    #: Claims to add or replace in the next ID tokens (None as a value removes the claim).
    claims: dict = field(default_factory=dict)
    #: A key to sign with instead of the published one (a forged signature).
    sign_with: RSAKey | None = None
    #: Answer every request with 503 (the provider is down).
    down: bool = False
    #: The authorisation endpoint answers with this OAuth error (e.g. access_denied).
    deny: str | None = None
    #: The issuer the discovery document names (None: its own URL).
    discovery_issuer: str | None = None
    codes: dict = field(default_factory=dict)
    #: Every ID token issued, and the nonce each carried.
    issued: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def reset(self, key: RSAKey) -> None:
        self.keys = [key]
        self.person = {"sub": "subject-1", "email": "officer@example.scot", "email_verified": True,
                       "name": "Olive Officer"}
        self.claims, self.sign_with, self.down, self.deny, self.discovery_issuer = {}, None, False, None, None
        self.codes.clear()
        self.issued.clear()
        self.requests.clear()

    def rotate(self, kid: str = "rotated") -> RSAKey:
        """A new signing key, published first; the old one stays published (as providers do)."""
        key = new_key(kid)
        self.keys.insert(0, key)
        return key

    def count(self, path: str) -> int:
        return sum(1 for p in self.requests if p == path)

    # The WSGI app ------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.path)
        if self.down:
            return Response("unavailable", status=503)(environ, start_response)
        handler = {
            "/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
            "/authorize": self.authorize, "/token": self.token, "/end-session": self.end_session,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def discovery(self, request):
        return _json({
            "issuer": self.discovery_issuer or self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/end-session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    def jwks(self, request):
        return _json(KeySet(self.keys).as_dict(private=False))

    def authorize(self, request):
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("unknown client", status=400)
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge") or not args.get("nonce"):
            return Response("PKCE (S256) and a nonce are required", status=400)
        redirect_uri = args["redirect_uri"]
        if self.deny:
            return _redirect(redirect_uri, error=self.deny, state=args.get("state", ""))
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": redirect_uri, "nonce": args["nonce"],
                            "challenge": args["code_challenge"], "person": dict(self.person)}
        return _redirect(redirect_uri, code=code, state=args.get("state", ""))

    def token(self, request):
        form = request.form
        basic = request.authorization
        client_id, secret = (basic.username, basic.password) if basic else (form.get("client_id"),
                                                                             form.get("client_secret"))
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return _json({"error": "invalid_grant"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        verifier = form.get("code_verifier") or ""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **grant["person"]}
        for name, value in self.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.sign_with or self.keys[0]
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        self.issued.append({"nonce": claims.get("nonce"), "id_token": id_token})
        return _json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 3600,
                      "id_token": id_token})

    def end_session(self, request):
        after = request.args.get("post_logout_redirect_uri")
        if after:
            return _redirect(after)
        return Response("<!doctype html><title>Signed out</title><h1>Signed out of the provider</h1>",
                        content_type="text/html")


def _json(body, status=200):
    import json

    return Response(json.dumps(body), status=status, content_type="application/json")


def _redirect(uri: str, **params) -> Response:
    target = uri + (("&" if "?" in uri else "?") + urlencode(params) if params else "")
    return Response("", status=302, headers={"Location": target})


class Running:
    """A provider served on 127.0.0.1 in a daemon thread; `stop()` ends it."""

    def __init__(self):
        self.first_key = new_key("first")
        self.provider = Provider()
        self.provider.reset(self.first_key)
        self._server = make_server("127.0.0.1", 0, self.provider, threaded=True)
        self.provider.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def provider_config(provider: Provider, **overrides) -> dict:
    """The tracker's SSO_PROVIDERS setting for this provider (key 'test')."""
    return {"test": {"issuer": provider.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "name": "Test Council", "domains": ["example.scot"], "emails_verified": False, **overrides}}
