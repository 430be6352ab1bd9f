"""Links to the tracker's pages, built from the endpoints, for pages, e-mails and workbooks alike.

`url_for` needs a request (or SERVER_NAME) to build a full address; e-mails are built by the scheduler with
no request at all. `external_url` binds the URL map to BASE_URL instead, so a link in an e-mail is the same
address the page has, and nothing here fakes a request.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, base_url: str | None = None, **values) -> str:
    """The full address of a page under BASE_URL (e.g. https://tracker.example.scot/actions/7)."""
    parts = urlsplit((base_url or current_app.config.get("BASE_URL") or "http://localhost").rstrip("/"))
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def action_url(action_or_id, *, external: bool = False, base_url: str | None = None) -> str:
    """An action's page."""
    action_id = getattr(action_or_id, "id", action_or_id)
    if external or base_url is not None or not has_request_context():
        return external_url("plans.action", base_url=base_url, action_id=action_id)
    return url_for("plans.action", action_id=action_id)
