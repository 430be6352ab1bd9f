"""The plan page around its table is kept per process (tracker.plans.views._shell) and must be the page a
fresh rendering gives: the sign-out token made afresh for each response, messages never cached, and any
change to what it shows (the plan, its partnership, the person, their roles) shown at once."""
from __future__ import annotations

import re

from tests.page_clients import client_as  # noqa: F401  (fixture: each request in its own app context)
from tracker.auth.models import Membership, Role
from tracker.extensions import db
from tracker.plans import services as plans
from tracker.plans.models import Plan

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def without_token(page: str) -> str:
    return TOKEN.sub("", page)


def test_the_kept_shell_gives_the_page_a_fresh_rendering_gives(app, world, client_as):
    client = client_as(world.manager)
    url = f"/plans/{world.plan.id}"
    first = client.get(url).text
    app.extensions.pop("plan_shells", None)  # rendered afresh
    fresh = client.get(url).text
    kept = client.get(url).text  # from the shell cache
    assert without_token(kept) == without_token(fresh) == without_token(first)
    assert "app-cached-page-token" not in kept and "app-cached-fragment" not in kept
    token = TOKEN.search(kept).group(1)
    assert token and token != "None"
    # The token in a kept page is this session's: signing out with it works.
    response = client.post("/auth/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get(url).status_code == 302  # signed out


def test_each_session_gets_its_own_token_in_a_kept_shell(world, client_as):
    url = f"/plans/{world.plan.id}"
    first, second = client_as(world.manager), client_as(world.manager)  # two browsers, one person
    first_page, second_page = first.get(url).text, second.get(url).text  # the second from the kept shell
    assert without_token(first_page) == without_token(second_page)
    first_token, second_token = TOKEN.search(first_page).group(1), TOKEN.search(second_page).group(1)
    assert first_token and second_token and first_token != second_token  # each signs its own session's secret


def test_changes_to_what_the_shell_shows_show_at_once(app, world, client_as):
    client = client_as(world.manager)
    url = f"/plans/{world.plan.id}"
    assert "Add an action" in client.get(url).text
    plan = db.session.get(Plan, world.plan.id)
    plan.description = "A brand new description"
    db.session.commit()
    assert "A brand new description" in client.get(url).text
    world.home.name = "Renamed IJB"
    db.session.commit()
    assert "Renamed IJB" in client.get(url).text
    world.manager.name = "Morag Renamed"
    db.session.commit()
    assert "Morag Renamed" in client.get(url).text
    membership = db.session.scalar(db.select(Membership).where(Membership.user_id == world.manager.id))
    membership.role = Role.VIEWER
    db.session.commit()
    assert "Add an action" not in client.get(url).text  # no longer a manager: no manager's links


def test_people_do_not_share_a_shell(world, client_as):
    url = f"/plans/{world.plan.id}"
    manager_page = client_as(world.manager).get(url).text
    viewer_page = client_as(world.viewer).get(url).text
    assert world.manager.name in manager_page and world.viewer.name not in manager_page
    assert world.viewer.name in viewer_page and "Add an action" not in viewer_page


def test_messages_show_once_and_are_never_kept(world, client_as):
    client = client_as(world.manager)
    url = f"/plans/{world.plan.id}"
    client.get(url)  # the shell is kept
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Saved the thing.")]
    assert "Saved the thing." in client.get(url).text
    assert "Saved the thing." not in client.get(url).text


def test_archiving_shows_at_once(world, client_as):
    client = client_as(world.manager)
    url = f"/plans/{world.plan.id}"
    assert "This plan was archived" not in client.get(url).text
    plans.archive_plan(db.session.get(Plan, world.plan.id), actor=world.manager)
    db.session.commit()
    assert "This plan was archived" in client.get(url).text
