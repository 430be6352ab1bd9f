"""Upload, preview, correct the mapping, confirm: in the browser's HTTP terms."""
from __future__ import annotations

import io
from pathlib import Path

from flask import g
from sqlalchemy import func, select

from tests import conftest
from tracker.extensions import db
from tracker.imports import services
from tracker.imports.models import ImportJob
from tracker.plans.models import Action, Plan

FIXTURES = Path(__file__).parent.parent / "fixtures"
DUNDEE = FIXTURES / "dundee-carers-delivery-plan-2022.xlsx"
GLASGOW = FIXTURES / "glasgow-msg-self-evaluation-2019.docx"


def sign_in_client(app, user):
    """A client signed in as `user`; forgets the user cached on the shared app context by earlier requests."""
    g.pop("_login_user", None)
    return conftest.sign_in_client(app, user)


def _upload(client, world, path, name=None, plan_name="Imported plan"):
    return client.post("/imports/", data={
        "file": (io.BytesIO(Path(path).read_bytes()), name or Path(path).name),
        "partnership": str(world.home.id), "plan_name": plan_name,
    }, content_type="multipart/form-data")


def test_upload_previews_then_confirm_commits_once(app, world):
    client = sign_in_client(app, world.manager)
    response = _upload(client, world, DUNDEE)
    assert response.status_code == 302
    job = db.session.scalar(select(ImportJob))
    page = client.get(response.location).get_data(as_text=True)
    assert "54 rows from the sheet" in page and "openpyxl" not in page and "calamine" not in page
    assert "50 to create" in page
    assert "Development work: ongoing, no due date" in page or "ongoing, no due date" in page
    assert "cell D45" in page and "Delivery Plan" in page
    assert db.session.scalar(select(func.count(Action.id))) == 3  # the world's own actions only
    assert client.get(response.location).status_code == 200  # GET changes nothing
    confirmed = client.post(f"/imports/{job.token}/confirm")
    assert confirmed.status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.name == "Imported plan"))
    assert len(plan.actions) == 50
    again = client.post(f"/imports/{job.token}/confirm", follow_redirects=True)
    assert "already committed" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == plan.id)) == 50


def test_the_column_mapping_can_be_corrected(app, world):
    client = sign_in_client(app, world.manager)
    response = _upload(client, world, DUNDEE)
    job = db.session.scalar(select(ImportJob))
    form = {f"column_{letter}": role for role, letter in job.mapping.items()}
    form.update({"column_F": "", "plan": "Renamed plan"})  # stop reading the lead column
    assert client.post(f"/imports/{job.token}/mapping", data=form).status_code == 302
    db.session.refresh(job)
    assert "lead" not in job.mapping and job.plan_name == "Renamed plan"
    assert all(row["lead"] == "" for row in job.preview["rows"])
    form.update({"column_E": "action"})  # two action columns
    response = client.post(f"/imports/{job.token}/mapping", data=form)
    assert response.status_code == 400
    assert "Choose each kind of column once" in response.get_data(as_text=True)


def test_docx_upload_preview_lists_proposals(app, world):
    client = sign_in_client(app, world.manager)
    response = _upload(client, world, GLASGOW, plan_name="")
    page = client.get(response.location).get_data(as_text=True)
    assert "MSG self-evaluation 2019" in page
    assert "25 to create" in page
    assert "Not for local completion" in page


def test_bad_files_get_a_clear_message_and_write_nothing(app, world):
    client = sign_in_client(app, world.manager)
    response = client.post("/imports/", data={"file": (io.BytesIO(b"not a spreadsheet"), "plan.xlsx"),
                                              "partnership": str(world.home.id)}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not an Excel .xlsx or Word .docx file" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_only_plan_managers_of_the_partnership_may_import(app, world):
    refused = sign_in_client(app, world.officer).get("/imports/")
    assert refused.status_code == 403 and "Only plan managers can import" in refused.get_data(as_text=True)
    response = _upload(sign_in_client(app, world.manager), world, DUNDEE)
    token_url = response.location
    assert sign_in_client(app, world.outsider).get(token_url).status_code == 404
    assert sign_in_client(app, world.viewer).get(token_url).status_code == 403
    assert sign_in_client(app, world.outsider).post(token_url + "/confirm").status_code == 404


def test_the_alias_list_can_be_corrected_and_the_preview_read_again(app, world):
    from tests import factories
    from tracker.partnerships.models import OrganisationAlias

    tayside = factories.organisation(world.home, "NHS Tayside")
    db.session.commit()
    client = sign_in_client(app, world.manager)
    response = _upload(client, world, DUNDEE)
    job = db.session.scalar(select(ImportJob))
    assert "NHST" in job.preview["new_organisations"]
    page = client.get(f"/imports/names/{world.home.id}")
    assert page.status_code == 200 and "No names have been recorded yet" in page.get_data(as_text=True)
    saved = client.post(f"/imports/names/{world.home.id}", data={"alias": "NHST", "organisation": str(tayside.id)})
    assert saved.status_code == 302
    assert db.session.scalar(select(OrganisationAlias.alias)) == "NHST"
    form = {f"column_{letter}": role for role, letter in job.mapping.items()}
    client.post(f"/imports/{job.token}/mapping", data={**form, "plan": job.plan_name})
    db.session.refresh(job)
    assert "NHST" not in job.preview["new_organisations"]
    row = next(r for r in job.preview["rows"] if r["lead"] == "NHST")
    assert row["leads"] == [["NHST", "NHS Tayside", "alias"]]
    client.post(f"/imports/names/{world.home.id}", data={"alias": "nhst", "organisation": "0"})
    assert db.session.scalar(select(func.count(OrganisationAlias.id))) == 0
    assert sign_in_client(app, world.outsider).get(f"/imports/names/{world.home.id}").status_code == 404
    assert sign_in_client(app, world.viewer).get(f"/imports/names/{world.home.id}").status_code == 403


def test_uploads_over_the_limit_are_refused(make_app, world):
    small = make_app(MAX_CONTENT_LENGTH=10_000)
    with small.app_context():
        client = conftest.sign_in_client(small, world.manager)
        response = _upload(client, world, GLASGOW)
        assert response.status_code == 413
        assert "File too large" in response.get_data(as_text=True)


def test_previews_nobody_confirms_are_forgotten_after_a_week(app, world, time_machine):
    import datetime as dt

    time_machine.move_to(dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone.utc))
    assert _upload(sign_in_client(app, world.manager), world, DUNDEE).status_code == 302
    time_machine.move_to(dt.datetime(2026, 1, 9, 9, tzinfo=dt.timezone.utc))
    assert _upload(sign_in_client(app, world.manager), world, DUNDEE).status_code == 302
    assert db.session.scalar(select(func.count(ImportJob.id))) == 1


def test_a_forged_confirm_without_the_csrf_token_is_refused(make_app, world):
    guarded = make_app(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        checked = services.check(DUNDEE)
        job = services.create_job(checked, services.read(checked), world.home, "Forged plan", world.manager.id)
        db.session.commit()
        client = conftest.sign_in_client(guarded, world.manager)
        assert client.post(f"/imports/{job.token}/confirm").status_code == 400
        assert db.session.scalar(select(func.count(Plan.id)).where(Plan.name == "Forged plan")) == 0
