"""The browser tests' live server closes every response before writing it (no file left open when
the browser drops a connection mid-response)."""
from __future__ import annotations

import io

from tests.browser.conftest import closing_responses


class Body:
    def __init__(self):
        self.closed = False

    def __iter__(self):
        yield b"<svg>"
        yield b"</svg>"

    def close(self):
        self.closed = True


def test_the_body_is_read_whole_and_closed_before_the_server_writes_it():
    body = Body()
    statuses = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "11")])
        return body

    served = closing_responses(app)({}, lambda status, headers: statuses.append(status))
    assert served == [b"<svg></svg>"]
    assert body.closed
    assert statuses == ["200 OK"]


def test_the_static_files_of_the_real_app_are_closed(app):
    wsgi = closing_responses(app.wsgi_app)
    opened = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/static/vendor/sgds/images/icons/icons.stack.svg",
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO()}
    served = wsgi(environ, lambda status, headers: opened.append(status))
    assert opened == ["200 OK"]
    assert b"<svg" in served[0]
