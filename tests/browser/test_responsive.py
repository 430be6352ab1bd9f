"""Responsive and printable (issue 13): no page scrolls sideways at 320 px or wider, and plans print.

For each demo role the test signs in once, then visits the pages its main navigation leads to and
the pages linked from those, three links deep (one page for each URL pattern: /plans/3 and /plans/4 count as one,
and a pattern measured for an earlier role is not measured again except each role's home), plus
the update return preview for lead officers. On each page it checks, at 390, 320 and 1280 px, that
``document.documentElement.scrollWidth <= window.innerWidth``, that no script on it throws, and runs axe-core
at 390 px (once for each URL pattern, whichever role reaches it first). Every failure is collected and reported at the end.
"""
from __future__ import annotations

import io
import re
import time
from urllib.parse import urlsplit

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, format_violations, run_axe, sign_in

WIDTHS = (390, 320, 1280)
AXE_WIDTH = 390
HEIGHT = 800

#: In this order: the manager sees the most links, so later roles find fewer new kinds of page.
ROLES = {
    "manager": "manager@demo.scot",
    "officer": "officer@demo.scot",
    "viewer": "viewer@demo.scot",
    "carer": "carer.rep@demo.scot",
    "national": "national@demo.scot",
    "auditor": "auditor@demo.scot",
    "admin": "admin@demo.scot",
}

#: Links that are not pages to look at: files, and signing out.
SKIP = re.compile(r"(\.(xlsx|docx|csv|json|pdf)$|/download$|/papers/(pdf|docx)$|/export|/workbook$|/auth/sign-out|/static/|/api/)")

#: Pages visited per role, so that the whole module keeps to a few minutes.
MAX_PAGES = 60

#: URL patterns already checked with axe (any role): axe is the slow part.
_AXE_DONE: set[str] = set()
#: URL patterns already measured by an earlier role: later roles skip them (to keep the module near 90 s in CI),
#: except the pages that differ for every role.
_MEASURED: set[str] = set()
PER_ROLE = {"/", "/my-actions", "/auth/account"}
#: (role, path, {width: scrollWidth}) for the summary printed with -s.
WIDTH_LOG: list[tuple[str, str, dict[int, int]]] = []


def pattern(path: str) -> str:
    """The URL's shape: ids and dates replaced, so that one page of each kind is visited."""
    return re.sub(r"/(\d{4}-\d{2}-\d{2}|\d+)(?=/|$)", "/N", path)


def main_links(page, origin: str) -> list[str]:
    """Same-site links in the page's main content and main navigation (paths, without fragments)."""
    hrefs = page.eval_on_selector_all(
        "main a[href], nav[aria-label='Main menu'] a[href]",
        "els => els.map(a => a.href)",
    )
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or not parts.path:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if SKIP.search(parts.path):
            continue
        paths.append(path)
    return paths


def measure(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def widest_elements(page, limit: int = 3) -> list[str]:
    """The elements that stick out past the viewport, for a readable failure."""
    return page.evaluate(
        """(limit) => {
            const w = window.innerWidth, out = [];
            const sticksOut = el => { const r = el.getBoundingClientRect(); return r.right > w + 1 && r.width > 0; };
            for (const el of document.querySelectorAll('main *, header *, nav *')) {
                const r = el.getBoundingClientRect();
                if (sticksOut(el) && !sticksOut(el.parentElement)) {
                    const name = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                    out.push(`${name} (right ${Math.round(r.right)})`);
                }
            }
            return out.slice(0, limit);
        }""",
        limit,
    )


def check_page(page, role: str, path: str, failures: list[str]) -> None:
    errors_before = len(page.console_errors)
    response = page.goto(path)
    status = response.status if response else 0
    if status == 403:  # a navigation entry this role may not use (the Import page for lead officers)
        return
    if status >= 400:
        failures.append(f"{role} {path}: HTTP {status}")
        return
    widths = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        scroll_width, inner_width = measure(page)
        widths[width] = scroll_width
        if scroll_width > inner_width:
            culprits = "; ".join(widest_elements(page))
            failures.append(f"{role} {path} at {width} px: scrollWidth {scroll_width} > {inner_width} [{culprits}]")
        if width == AXE_WIDTH and pattern(urlsplit(path).path) not in _AXE_DONE:
            _AXE_DONE.add(pattern(urlsplit(path).path))
            violations = run_axe(page)
            if violations:
                failures.append(f"{role} {path} at {width} px: " + format_violations(violations, page.url))
    WIDTH_LOG.append((role, path, widths))
    # A script that throws stops the rest of it (the upload pages' error summary was never focused).
    uncaught = [e for e in page.console_errors[errors_before:] if e.startswith("uncaught:")]
    if uncaught:
        failures.append(f"{role} {path}: " + "; ".join(uncaught))


def update_return_preview(page, live_server) -> str | None:
    """Upload a filled-in update return for the first plan offering one; the preview page's path."""
    page.goto("/plans")
    link = page.locator("main a", has_text="Update return").first
    if not link.count():
        return None
    returns_path = urlsplit(link.get_attribute("href")).path
    download = page.request.get(returns_path + "/download")
    assert download.ok, download.status
    wb = openpyxl.load_workbook(io.BytesIO(download.body()))
    ws = wb[wb.sheetnames[0]]
    headers = [cell.value for cell in ws[1]]
    if "Progress update" in headers and ws.max_row >= 2:
        ws.cell(row=2, column=headers.index("Progress update") + 1).value = (
            "Recruitment to the community development post is complete; the interim arrangements "
            "continue until https://www.example.scot/a-very-long-address/with-no-spaces-in-it-at-all"
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    page.goto(returns_path)
    page.set_input_files("#return_file", files=[{
        "name": "return.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": buffer.getvalue(),
    }])
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/returns/\d+$"))
    return urlsplit(page.url).path


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_scrolls_sideways(role, page, live_server):
    started = time.monotonic()
    sign_in(page, live_server, ROLES[role], DEMO_PASSWORD)
    origin = live_server.url
    failures: list[str] = []

    # The navigation's pages, then the pages they link to, and two levels more: one page per pattern.
    queue = [urlsplit(page.url).path] + main_links(page, origin) + ["/self-evaluation/benchmarking"]
    seen_patterns: set[str] = set()
    visited: list[str] = []
    depth_of = {path: 0 for path in queue}
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        key = pattern(urlsplit(path).path)
        if key in seen_patterns:
            continue
        seen_patterns.add(key)
        visited.append(path)
        if key in _MEASURED and urlsplit(path).path not in PER_ROLE:
            continue  # measured for an earlier role, with its links followed then
        _MEASURED.add(key)
        check_page(page, role, path, failures)
        if depth_of[path] < 3:
            for link in main_links(page, origin):
                if link not in depth_of:
                    depth_of[link] = depth_of[path] + 1
                    queue.append(link)

    if role in ("officer", "manager"):
        preview = update_return_preview(page, live_server)
        if preview is None:
            failures.append(f"{role}: no update return offered on /plans")
        else:
            visited.append(preview)
            check_page(page, role, preview, failures)

    for required in ("/", "/my-actions", "/plans", "/self-evaluation/", "/self-evaluation/benchmarking", "/indicators/",
                     "/committees/"):
        if not any(urlsplit(p).path == required for p in visited):
            failures.append(f"{role}: never reached {required}")
    print(f"\n{role}: {len(visited)} pages in {time.monotonic() - started:.1f} s")
    for logged_role, path, widths in WIDTH_LOG:
        if logged_role == role:
            print(f"  {path}: " + ", ".join(f"{w}px→{sw}" for w, sw in widths.items()))
    assert not failures, f"{len(failures)} problem(s) for {role}:\n" + "\n".join(failures)


def test_plan_page_prints_without_navigation_and_with_readable_badges(page, live_server):
    sign_in(page, live_server, ROLES["manager"], DEMO_PASSWORD)
    page.goto("/plans")
    page.locator("main a[href^='/plans/'] strong").first.click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    # On screen the manager sees the main menu and an edit link.
    expect(page.get_by_role("navigation", name="Main menu", exact=True)).to_be_visible()
    edit_links = page.locator("main a", has_text=re.compile(r"^\s*Edit"))
    assert edit_links.count() > 0, "expected the manager to see an Edit link on screen"

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main menu", exact=True)).to_be_hidden()
    expect(page.locator(".ds_skip-links")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    for index in range(edit_links.count()):
        expect(edit_links.nth(index)).to_be_hidden()
    for form in page.locator("main form").all():
        expect(form).to_be_hidden()

    badges = page.locator("main .rag")
    assert badges.count() > 0
    styles = badges.evaluate_all(
        """els => els.map(el => {
            const s = getComputedStyle(el);
            return {text: el.innerText.trim(), visible: el.offsetParent !== null,
                    border: s.borderTopStyle + ' ' + s.borderTopWidth + ' ' + s.borderTopColor,
                    width: parseFloat(s.borderTopWidth), style: s.borderTopStyle,
                    color: s.color, borderColor: s.borderTopColor, background: s.backgroundColor};
        })"""
    )
    problems = []
    for badge in styles:
        if not badge["visible"] or not badge["text"]:
            problems.append(f"badge not shown with its text: {badge}")
        if badge["style"] in ("none", "hidden") or badge["width"] < 1 or badge["borderColor"] in (
                "rgba(0, 0, 0, 0)", "transparent"):
            problems.append(f"badge {badge['text']!r} has no visible border in print: {badge['border']}")
    # Links print without their addresses appended.
    after = page.evaluate(
        "getComputedStyle(document.querySelector('main a'), '::after').content"
    )
    assert "http" not in after and "/" not in after, after
    # Table headings repeat on each printed page.
    assert page.evaluate("getComputedStyle(document.querySelector('main thead')).display") == "table-header-group"
    assert not problems, "\n".join(problems[:10])
