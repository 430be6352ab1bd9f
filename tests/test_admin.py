"""Administration of partnerships, users and organisations: who may do what, and that every change is audited."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.auth.models import Membership, Role, User
from tracker.extensions import db
from tracker.mail import outbox
from tracker.partnerships.models import Organisation, OrganisationAlias, OrganisationKind, Partnership


@pytest.fixture
def admins(world):
    """Partnership administrators of the home and the other partnership, and an organisation in each."""
    home_admin = factories.user(world.home, Role.ADMIN, email="home.admin@example.scot")
    other_admin = factories.user(world.other, Role.ADMIN, email="other.admin@example.scot")
    home_org = factories.organisation(world.home, "Home Council", OrganisationKind.COUNCIL)
    other_org = factories.organisation(world.other, "Other Health Board", OrganisationKind.HEALTH_BOARD)
    db.session.commit()
    return {"home_admin": home_admin, "other_admin": other_admin, "home_org": home_org, "other_org": other_org}


def _actor(world, admins, who):
    return None if who is None else admins.get(who) or getattr(world, who)


def _client(app, client_as, user):
    return client_as(user) if user is not None else app.test_client()


def database_state() -> dict:
    """Every table's row count and the administrable fields of every row, to prove a refusal changed nothing."""
    db.session.expire_all()
    counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    users = db.session.execute(select(User.id, User.name, User.email, User.job_title, User.active, User.is_admin,
                                      User.session_token).order_by(User.id)).all()
    roles = db.session.execute(select(Membership.user_id, Membership.partnership_id, Membership.role)
                               .order_by(Membership.id)).all()
    orgs = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind).order_by(Organisation.id)).all()
    aliases = db.session.execute(select(OrganisationAlias.alias).order_by(OrganisationAlias.id)).all()
    partnerships = db.session.execute(select(Partnership.id, Partnership.name, Partnership.full_name)
                                      .order_by(Partnership.id)).all()
    return {"counts": counts, "users": users, "roles": roles, "orgs": orgs, "aliases": aliases,
            "partnerships": partnerships}


# Permission table: every role against every administration write endpoint ------------------------------------

ROLES = ["viewer", "officer", "other_officer", "manager", "outsider", "home_admin", "other_admin", "admin", None]


def _endpoints(world, admins):
    home, officer = world.home, world.officer
    return {
        "create partnership": ("/admin/partnerships/new", {"name": "New IJB", "full_name": "New partnership"}),
        "rename partnership": (f"/admin/partnerships/{home.id}", {"name": "Renamed IJB", "full_name": ""}),
        "create user": ("/admin/users/new", {"name": "New Person", "email": "new.person@example.scot",
                                             f"role_{home.id}": "viewer"}),
        "edit user": (f"/admin/users/{officer.id}", {"name": "Renamed Officer", "email": "officer@example.scot",
                                                     "job_title": "Head of service"}),
        "set roles": (f"/admin/users/{officer.id}/roles", {f"role_{home.id}": "plan_manager"}),
        "disable user": (f"/admin/users/{officer.id}/disable", {"confirmed": "yes"}),  # leads open actions
        "create organisation": ("/admin/organisations/new", {"partnership_id": home.id, "name": "New Carers Centre",
                                                             "kind": "carers_centre", "aliases": "NCC"}),
        "edit organisation": (f"/admin/organisations/{admins['home_org'].id}",
                              {"name": "Home City Council", "kind": "council", "aliases": "HCC"}),
    }


SITE_ONLY = {"viewer": 403, "officer": 403, "other_officer": 403, "manager": 403, "outsider": 403,
             "home_admin": 403, "other_admin": 403, "admin": 302, None: 302}
HOME_USERS = {"viewer": 403, "officer": 403, "other_officer": 403, "manager": 403, "outsider": 403,
              "home_admin": 302, "other_admin": 404, "admin": 302, None: 302}
# The other partnership's administrator has no field for the home partnership: the form is refused.
HOME_NEW = {**HOME_USERS, "other_admin": 400}

EXPECTED = {
    "create partnership": SITE_ONLY,
    "rename partnership": SITE_ONLY,
    "create user": HOME_NEW,
    "edit user": HOME_USERS,
    "set roles": HOME_USERS,
    "disable user": HOME_USERS,
    "create organisation": HOME_NEW,
    "edit organisation": HOME_USERS,
}

CASES = [(endpoint, role, expected[role]) for endpoint, expected in EXPECTED.items() for role in ROLES]


@pytest.mark.parametrize("endpoint,role,expected", CASES,
                         ids=[f"{e.replace(' ', '-')}-{r or 'anonymous'}-{s}" for e, r, s in CASES])
def test_administration_permissions(app, world, admins, client_as, endpoint, role, expected):
    path, data = _endpoints(world, admins)[endpoint]
    user = _actor(world, admins, role)
    client = _client(app, client_as, user)
    before = database_state()
    response = client.post(path, data=data)
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    after = database_state()
    if role is None:
        assert "/auth/sign-in" in response.location
    if expected == 302 and role is not None:
        assert after != before
        assert after["counts"]["audit_events"] > before["counts"]["audit_events"], "the change was not audited"
    else:
        assert after == before


@pytest.mark.parametrize("role,expected", [("viewer", 403), ("officer", 403), ("manager", 403), ("outsider", 403),
                                           ("home_admin", 200), ("other_admin", 200), ("admin", 200)])
def test_only_administrators_see_the_administration_pages(app, world, admins, client_as, role, expected):
    client = client_as(_actor(world, admins, role))
    for path in ("/admin/", "/admin/users", "/admin/organisations", "/admin/users/new", "/admin/organisations/new"):
        assert client.get(path).status_code == expected, path
    nav = client.get("/").get_data(as_text=True)
    assert ('href="/admin/"' in nav) == (expected == 200)


def test_partnership_administrators_see_only_their_own_users_and_organisations(app, world, admins, client_as):
    client = client_as(admins["home_admin"])
    users = client.get("/admin/users").get_data(as_text=True)
    assert "officer@example.scot" in users and "outsider@example.scot" not in users
    assert client.get(f"/admin/users/{world.outsider.id}").status_code == 404
    orgs = client.get("/admin/organisations").get_data(as_text=True)
    assert "Home Council" in orgs and "Other Health Board" not in orgs
    assert client.get(f"/admin/organisations/{admins['other_org'].id}").status_code == 404
    assert client.get("/admin/partnerships").status_code == 403


# Users -----------------------------------------------------------------------------------------------------


def test_creating_a_user_emails_a_link_to_choose_a_password(app, world, admins, client_as):
    client = client_as(admins["home_admin"])
    response = client.post("/admin/users/new", data={
        "name": "Nadia New", "email": "Nadia.New@example.scot", "job_title": "Carers lead",
        f"role_{world.home.id}": "lead_officer"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nadia.new@example.scot"))
    assert user.password_hash is None and user.role_in(world.home.id) is Role.LEAD_OFFICER
    assert not user.is_admin
    assert outbox() == [], "the request only queues the e-mail (issue 12)"
    from tracker.outbox.services import deliver_pending

    deliver_pending()
    (message,) = outbox()
    assert message["To"].endswith("<nadia.new@example.scot>")
    link = re.search(r"http://tracker\.test(/auth/reset-password/\S+)", message.get_content()).group(1)
    assert app.test_client().post(link, data={"new_password": "nadia's own passphrase",
                                              "confirm_password": "nadia's own passphrase"}).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "user", AuditEvent.verb == "create",
                                                       AuditEvent.entity_id == user.id))
    assert event.user_id == admins["home_admin"].id


def test_only_site_administrators_make_site_administrators(app, world, admins, client_as):
    data = {"name": "Sneaky", "email": "sneaky@example.scot", "is_admin": "y", f"role_{world.home.id}": "viewer"}
    client_as(admins["home_admin"]).post("/admin/users/new", data=data)
    assert db.session.scalar(select(User).where(User.email == "sneaky@example.scot")).is_admin is False
    client_as(world.admin).post("/admin/users/new", data={**data, "email": "trusted@example.scot"})
    assert db.session.scalar(select(User).where(User.email == "trusted@example.scot")).is_admin is True


def test_a_duplicate_email_is_refused(app, world, admins, client_as):
    before = database_state()
    response = client_as(world.admin).post(f"/admin/users/{world.officer.id}", data={
        "name": "Owen", "email": "MANAGER@example.scot"})
    assert response.status_code == 400 and "already uses that email address" in response.get_data(as_text=True)
    assert database_state() == before


def test_editing_details_is_audited_with_before_and_after(app, world, admins, client_as):
    client_as(admins["home_admin"]).post(f"/admin/users/{world.officer.id}", data={
        "name": "Olivia Officer", "email": "officer@example.scot", "job_title": "Service manager"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.verb == "update", AuditEvent.entity_type == "user"))
    assert event.after == {"name": "Olivia Officer", "job_title": "Service manager"}
    assert event.before["job_title"] is None


def test_roles_are_set_per_partnership_and_audited(app, world, admins, client_as):
    officer = world.officer
    client_as(world.admin).post(f"/admin/users/{officer.id}/roles", data={
        f"role_{world.home.id}": "plan_manager", f"role_{world.other.id}": "viewer"})
    db.session.expire_all()
    assert officer.role_in(world.home.id) is Role.PLAN_MANAGER and officer.role_in(world.other.id) is Role.VIEWER
    # The officer now works in both partnerships: only a site administrator changes their roles (issue 11).
    refused = client_as(admins["other_admin"]).post(f"/admin/users/{officer.id}/roles",
                                                    data={f"role_{world.other.id}": ""})
    assert refused.status_code == 403
    client_as(world.admin).post(f"/admin/users/{officer.id}/roles", data={
        f"role_{world.home.id}": "plan_manager", f"role_{world.other.id}": ""})
    db.session.expire_all()
    assert officer.role_in(world.other.id) is None and officer.role_in(world.home.id) is Role.PLAN_MANAGER
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.verb == "role").order_by(AuditEvent.id)).all()
    assert [(e.partnership_id, e.before["role"], e.after["role"]) for e in events] == [
        (world.home.id, "lead_officer", "plan_manager"), (world.other.id, None, "viewer"),
        (world.other.id, "viewer", None)]


def test_a_user_in_another_partnership_is_left_to_site_administrators(app, world, admins, client_as):
    national = factories.user(world.home, Role.VIEWER, email="national@example.scot")
    db.session.add(Membership(user_id=national.id, partnership_id=world.other.id, role=Role.VIEWER))
    db.session.commit()
    client = client_as(admins["home_admin"])
    page = client.get(f"/admin/users/{national.id}").get_data(as_text=True)
    assert "only a site administrator" in page and "Disable account" not in page
    before = database_state()
    assert client.post(f"/admin/users/{national.id}/disable").status_code == 403
    assert client.post(f"/admin/users/{national.id}", data={"name": "X", "email": "x@example.scot"}).status_code == 403
    assert database_state() == before
    # ...and so are their roles, even in the home partnership (issue 11: the national team's account became a
    # Dundee admin this way).
    assert client.post(f"/admin/users/{national.id}/roles",
                       data={f"role_{world.home.id}": "admin"}).status_code == 403
    assert database_state() == before


def test_disabling_ends_sessions_and_refuses_sign_in(app, world, admins, client_as):
    officer_client = app.test_client()
    officer_client.post("/auth/sign-in", data={"email": "officer@example.scot", "password": factories.PASSWORD})
    cookie = officer_client.get_cookie("session", domain="tracker.test").value
    assert officer_client.get("/").status_code == 200
    client_as(admins["home_admin"]).post(f"/admin/users/{world.officer.id}/disable", data={"confirmed": "yes"})
    replay = app.test_client()
    replay.set_cookie("session", cookie, domain="tracker.test")
    assert replay.get("/").status_code == 302
    assert officer_client.get("/").status_code == 302
    refused = app.test_client().post("/auth/sign-in", data={"email": "officer@example.scot",
                                                            "password": factories.PASSWORD})
    assert refused.status_code == 400
    client_as(admins["home_admin"]).post(f"/admin/users/{world.officer.id}/enable")
    again = app.test_client().post("/auth/sign-in", data={"email": "officer@example.scot",
                                                          "password": factories.PASSWORD})
    assert again.status_code == 302
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_id == world.officer.id,
                                                             AuditEvent.entity_type == "user")).all()
    assert verbs == ["disable", "enable"]


def test_administrators_cannot_disable_themselves(app, world, admins, client_as):
    assert client_as(admins["home_admin"]).post(
        f"/admin/users/{admins['home_admin'].id}/disable").status_code == 403
    db.session.expire_all()
    assert admins["home_admin"].active


# Organisations and partnerships ---------------------------------------------------------------------------


def test_organisation_aliases_are_edited_as_a_list(app, world, admins, client_as):
    client = client_as(admins["home_admin"])
    org = admins["home_org"]
    client.post(f"/admin/organisations/{org.id}", data={"name": "Home Council", "kind": "council",
                                                        "aliases": "HC\nHome CC\n\nhc\nHome Council"})
    db.session.expire_all()
    assert sorted(a.alias for a in org.aliases) == ["HC", "Home CC"]
    client.post(f"/admin/organisations/{org.id}", data={"name": "Home City Council", "kind": "council",
                                                        "aliases": "Home CC\nHCC"})
    db.session.expire_all()
    assert org.name == "Home City Council" and sorted(a.alias for a in org.aliases) == ["HCC", "Home CC"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "organisation")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.before == {"name": "Home Council", "aliases": ["HC", "Home CC"]}
    assert event.after == {"name": "Home City Council", "aliases": ["HCC", "Home CC"]}


def test_an_alias_of_another_organisation_is_refused(app, world, admins, client_as):
    """The first POST must have made the clash (NHS Home, alias NHSH) that the second is refused for.

    Mutation it catches: a first POST that is itself refused (e.g. kind "health-board"), after which the
    second post tests only whatever else refuses it."""
    client = client_as(admins["home_admin"])
    created = client.post("/admin/organisations/new", data={"partnership_id": world.home.id, "name": "NHS Home",
                                                            "kind": "health_board", "aliases": "NHSH"})
    assert created.status_code == 302
    nhs_home = db.session.scalar(select(Organisation).where(Organisation.name == "NHS Home"))
    assert [a.alias for a in nhs_home.aliases] == ["NHSH"] and nhs_home.partnership_id == world.home.id
    before = database_state()
    response = client.post(f"/admin/organisations/{admins['home_org'].id}",
                           data={"name": "Home Council", "kind": "council", "aliases": "nhsh"})
    assert response.status_code == 400
    assert "already stands for NHS Home" in response.get_data(as_text=True)
    assert database_state() == before


def test_the_same_alias_may_be_used_in_another_partnership(app, world, admins, client_as):
    client_as(admins["home_admin"]).post(f"/admin/organisations/{admins['home_org'].id}",
                                         data={"name": "Home Council", "kind": "council", "aliases": "TC"})
    response = client_as(admins["other_admin"]).post(f"/admin/organisations/{admins['other_org'].id}", data={
        "name": "Other Health Board", "kind": "health_board", "aliases": "TC"})
    assert response.status_code == 302


def test_user_text_is_shown_escaped(app, world, admins, client_as):
    client = client_as(admins["home_admin"])
    client.post("/admin/organisations/new", data={"partnership_id": world.home.id, "kind": "other",
                                                  "name": "<script>alert('x')</script>", "aliases": "<b>bold</b>"})
    html = client.get("/admin/organisations").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>bold</b>" not in html


def test_partnerships_are_created_and_renamed_by_site_administrators(app, world, admins, client_as):
    client = client_as(world.admin)
    assert client.post("/admin/partnerships/new", data={"name": "Fife", "full_name": "Fife HSCP"}).status_code == 302
    fife = db.session.scalar(select(Partnership).where(Partnership.name == "Fife"))
    assert fife.full_name == "Fife HSCP"
    duplicate = client.post("/admin/partnerships/new", data={"name": "fife"})
    assert duplicate.status_code == 400 and "already a partnership called Fife" in duplicate.get_data(as_text=True)
    client.post(f"/admin/partnerships/{fife.id}", data={"name": "Fife IJB", "full_name": "Fife HSCP"})
    db.session.expire_all()
    assert fife.name == "Fife IJB"
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "partnership")).all()
    assert verbs == ["create", "update"]


def test_a_user_is_created_and_the_welcome_queued_when_the_mail_server_is_down(make_app, world):
    """Issue 12: the welcome went out inside the request; with SMTP down it was lost. Now it waits in the outbox."""
    import socket

    from tests.conftest import sign_in_client
    from tracker.outbox.services import deliver_pending
    from tracker.reminders.models import ReminderSend, SendStatus

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = make_app(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    client = sign_in_client(app, world.admin)
    response = client.post("/admin/users/new", data={"name": "Offline Person", "email": "offline@example.scot",
                                                      f"role_{world.home.id}": "viewer"}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.email == "offline@example.scot")) is not None
    with app.app_context():
        assert deliver_pending() == 0  # the server is down: the run fails, the message waits
        (row,) = db.session.scalars(select(ReminderSend).where(ReminderSend.kind == "welcome")).all()
        assert (row.recipient, row.status, row.attempts) == ("offline@example.scot", SendStatus.PENDING, 0)


def test_a_refusal_says_why_in_plain_words(app, world, client_as):
    response = client_as(world.manager).get("/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Only administrators can use the administration pages." in html
    assert "You don't have the permission" not in html


def test_demo_has_a_partnership_administrator_for_dundee(app, runner):
    from tracker.auth import permissions
    from tracker.auth.services import find_by_email

    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    dundee_admin = find_by_email("dundee.admin@demo.scot")
    dundee = db.session.scalar(select(Partnership).where(Partnership.name == "Dundee"))
    assert permissions.administered_partnership_ids(dundee_admin) == {dundee.id}
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "dundee.admin@demo.scot")) == 1


def test_users_are_found_by_name_or_email(app, world, admins, client_as):
    client = client_as(world.admin)
    html = client.get("/admin/users", query_string={"q": "OUTSIDER@"}).get_data(as_text=True)
    assert "outsider@example.scot" in html and "officer@example.scot" not in html
    assert "No users match" in client.get("/admin/users", query_string={"q": "100%_"}).get_data(as_text=True)
    html = client_as(admins["home_admin"]).get("/admin/users", query_string={"q": "outsider"}).get_data(as_text=True)
    assert "outsider@example.scot" not in html  # not in a partnership this administrator manages


def test_the_users_list_is_capped(app, world, client_as, monkeypatch):
    from tracker.admin import views

    monkeypatch.setattr(views, "USERS_SHOWN", 3)
    html = client_as(world.admin).get("/admin/users").get_data(as_text=True)
    assert html.count('href="/admin/users/') == 3 + 1  # three users, and "Add a user" (/admin/users/new)
    assert "Showing the first 3 users" in html


def test_a_new_account_without_a_role_is_refused_beside_the_role_field(app, world, admins, client_as):
    """The refusal was a line in the error summary with no link, and nothing at the role field."""
    client = client_as(admins["home_admin"])
    response = client.post("/admin/users/new", data={"name": "Nadia New", "email": "nadia.new@example.scot",
                                                     f"role_{world.home.id}": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="role_{world.home.id}-error"' in page and f'href="#role_{world.home.id}"' in page
    assert "Give the person a role in at least one partnership." in page


def test_a_new_account_form_shows_the_missing_role_and_the_taken_address_together(app, world, admins, client_as):
    client = client_as(admins["home_admin"])
    response = client.post("/admin/users/new", data={"name": "Olive Again", "email": world.officer.email,
                                                     f"role_{world.home.id}": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Another account already uses that email address." in page and 'id="email-error"' in page
    assert "Give the person a role in at least one partnership." in page
