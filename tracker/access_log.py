"""gunicorn's access log without secrets: `--logger-class tracker.access_log.RedactingLogger` (scripts/run).

A password-reset link carries its token in the path (/auth/reset-password/<token>); opening it moves the token
into the session at once (tracker.auth.views.reset_password), but that first request line would still be
logged. This logger replaces such tokens, and any token=, key= or password= query value, with [redacted]
in every access-log field (request line, path, query, Referer, headers and environ atoms alike).
"""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
_SECRETS = [
    (re.compile(r"(/auth/reset-password/)[^/?#\s\"]+"), rf"\g<1>{REDACTED}"),
    # a single sign-on callback's authorisation code and state (tracker.auth.sso_views)
    (re.compile(r"(/auth/sso/[^/?#\s\"]+/callback\?)[^#\s\"]*"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)((?:^|[?&;])(?:token|reset_token|key|password|api_key|access_token)=)[^&;#\s\"]*"),
     rf"\g<1>{REDACTED}"),
]


def redact(value: str) -> str:
    for pattern, replacement in _SECRETS:
        value = pattern.sub(replacement, value)
    return value


class RedactingLogger(Logger):
    """gunicorn's own logger, with secrets taken out of every access-log atom."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
