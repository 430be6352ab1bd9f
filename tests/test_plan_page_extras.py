"""The plan page around its table (the filter form's officers and organisations, the indicators and risks
sections) is cached per person and plan against queries.plan_page_statement: each change shows on the
next request in another process, one person's links are never shown to another, and a cached page costs
two statements (the user, then the plan with its stamps).

"Another process" is a second app (its own caches and connections, as another gunicorn worker).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests import factories
from tests.conftest import sign_in_client, statements_of
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.indicators import services as indicators
from tracker.partnerships.models import Organisation, OrganisationKind
from tracker.periods import Period
from tracker.plans import queries
from tracker.plans import services as plans
from tracker.rag import Status
from tracker.risks import services as risks
from tracker.timeutil import today


@pytest.fixture
def worker(make_app):
    """A second app standing in for another gunicorn worker."""
    return make_app()


def select_options(page: str, name: str) -> str:
    found = re.search(rf'<select class="ds_select" id="{name}" name="{name}">(.*?)</select>', page, re.S)
    assert found, name
    return found.group(1)


def test_each_change_around_the_table_shows_at_once_in_another_process(world, worker):
    client = sign_in_client(worker, world.manager)
    url = f"/plans/{world.plan.id}"

    def page() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.text

    first = page()
    assert world.officer.name in select_options(first, "lead") and "This plan has no indicators" not in first

    # A new officer joins; an officer is made inactive: the lead filter follows at once.
    newcomer = factories.user(world.home, Role.LEAD_OFFICER, name="Newly Joined Officer")
    db.session.commit()
    assert "Newly Joined Officer" in select_options(page(), "lead")
    world.other_officer.active = False
    db.session.commit()
    assert world.other_officer.name not in select_options(page(), "lead")
    # The newcomer's role lowered to viewer: no longer a possible lead.
    newcomer.memberships[0].role = Role.VIEWER
    db.session.commit()
    assert "Newly Joined Officer" not in select_options(page(), "lead")

    # An organisation added with a Core statement (as the import adds them), then one renamed.
    db.session.execute(Organisation.__table__.insert(), [
        {"partnership_id": world.home.id, "name": "Added In Bulk Trust", "kind": OrganisationKind.OTHER}])
    db.session.commit()
    assert "Added In Bulk Trust" in select_options(page(), "organisation")
    organisation = factories.organisation(world.home, "Old Name Council")
    db.session.commit()
    assert "Old Name Council" in select_options(page(), "organisation")
    organisation.name = "New Name Council"
    db.session.commit()
    options = select_options(page(), "organisation")
    assert "New Name Council" in options and "Old Name Council" not in options

    # An indicator defined, then a value entered for it.
    day = today()
    indicator = indicators.create_indicator(
        world.plan, name="Carers with support plans", frequency="quarterly", starts_on=dt.date(2023, 4, 1),
        unit="count", higher_is_better=True, responsible_officer_id=world.officer.id, actor_id=world.manager.id)
    db.session.commit()
    assert "Carers with support plans" in page()
    period = Period.containing("quarterly", day).previous()
    indicators.enter_value(indicator, period, value=4321, actor_id=world.officer.id, today=day)
    db.session.commit()
    assert "4,321" in page()

    # A risk linked to the plan, resting on an action of another plan of the partnership; that action put
    # at risk (no change to this plan's actions, nor to the risk): the flag shows at once.
    elsewhere = factories.plan(world.home, "Second home plan", manager=world.manager)
    mitigating = factories.action(elsewhere, lead=world.officer, text="Mitigating action elsewhere")
    risk = risks.create_risk(world.home, reference="R9", title="Funding may not rise", inherent=(3, 3),
                             residual=(2, 2), target=(2, 2), plans=[world.plan], actions=[mitigating],
                             actor=world.manager)
    db.session.commit()
    shown = page()
    assert "Funding may not rise" in shown and "risk flagged" not in shown
    plans.record_progress(mitigating, actor=world.officer, status=Status.AT_RISK, narrative="Slipping.",
                          expected_version=mitigating.version)
    db.session.commit()
    assert "1 at risk" in page()
    risks.edit_risk(risk, actor=world.manager, title="Funding may fall")
    db.session.commit()
    assert "Funding may fall" in page()


def test_what_is_around_the_table_is_each_persons_own(world, worker):
    """The manager's "Add an indicator" link and the responsible officer's upload link are theirs alone,
    and a filter's selected officer is the one asked for."""
    indicator = indicators.create_indicator(
        world.plan, name="Delayed discharges", frequency="quarterly", starts_on=dt.date(2023, 4, 1),
        unit="count", higher_is_better=False, responsible_officer_id=world.officer.id, actor_id=world.manager.id)
    db.session.commit()
    url = f"/plans/{world.plan.id}"
    manager, officer, viewer = (sign_in_client(worker, u) for u in (world.manager, world.officer, world.viewer))
    add = f"Add an indicator to {world.plan.name}"
    upload = f"Upload values for {world.plan.name}"
    for _ in range(2):  # the second from the caches
        manager_page, officer_page, viewer_page = (c.get(url).text for c in (manager, officer, viewer))
        assert add in manager_page and upload in manager_page
        assert add not in officer_page and upload in officer_page
        assert add not in viewer_page and upload not in viewer_page
        assert indicator.name in viewer_page
    chosen = manager.get(f"{url}?lead={world.officer.id}").text
    assert f'<option value="{world.officer.id}" selected>' in select_options(chosen, "lead")
    assert " selected>" not in select_options(manager.get(url).text, "lead")


def test_a_cached_plan_page_costs_two_statements(world, worker):
    client = sign_in_client(worker, world.manager)
    url = f"/plans/{world.plan.id}"
    client.get(url)
    seen, _page = statements_of(worker, client, url)
    assert len(seen) == 2, seen


def test_plan_page_stamp_moves_with_what_it_stamps(world):
    before = queries.plan_page_stamp(world.plan.id)
    factories.organisation(world.home, "Another Trust")
    db.session.commit()
    after = queries.plan_page_stamp(world.plan.id)
    assert after[0] == before[0] and after[1] != before[1]  # the table's stamp stays
    plans.edit_plan(world.plan, actor=world.manager, name="Renamed plan")
    db.session.commit()
    assert queries.plan_page_stamp(world.plan.id)[0] != after[0]
