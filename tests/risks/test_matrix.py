"""The partnership's scoring matrix: the bands checked as a pure function, the one service (also the CLI's),
its refusals, the preview of the risks that change band, and the settings page (check, then save)."""
from __future__ import annotations

import re

import pytest

from tracker.audit.models import AuditEvent
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.risks import scoring, services
from tracker.risks.models import RiskMatrix, RiskReview

FIVE = [("Low", 1, 4), ("Moderate", 5, 9), ("High", 10, 16), ("Very high", 20, 25)]
THREE = [("Low", 1, 3), ("Moderate", 4, 6), ("High", 9, 9)]


# --------------------------------------------------------------------------- pure: the bands
def test_the_two_schemes_from_their_ranges():
    assert scoring.matrix_from_bands(5, FIVE) == scoring.DEFAULT
    assert scoring.matrix_from_bands(3, THREE) == scoring.DUNDEE_3X3
    assert scoring.matrix_from_bands(3, [("Low", 1), ("Moderate", 4), ("High", 9)]) == scoring.DUNDEE_3X3
    # scores no 5 x 5 matrix gives (17-19) may fall between bands
    assert scoring.matrix_from_bands(5, [("Low", 1, 4), ("Moderate", 5, 9), ("High", 10, 16),
                                         ("Very high", 17, 25)]).band(20).name == "Very high"
    assert scoring.band_ranges(scoring.DEFAULT) == FIVE
    assert scoring.band_ranges(scoring.DUNDEE_3X3) == THREE
    assert scoring.possible_scores(3) == [1, 2, 3, 4, 6, 9]


@pytest.mark.parametrize("size,bands,field,words", [
    (11, FIVE, "size", None),
    ("5", FIVE, "size", None),
    (3, [], "band_1_name", "at least one"),
    (5, [(f"B{n}", n, n) for n in range(1, 7)] + [("Top", 7, 25)], "band_6_name", "at most 6"),
    (3, [("Low", 2, 3), ("High", 4, 9)], "band_1_low", "Bands start at 1"),
    (3, [("Low", 1, 3), ("High", 6, 9)], "band_2_low", "No band holds the score 4"),
    (3, [("Low", 1, 4), ("High", 4, 9)], "band_2_low", "one band only"),
    (3, [("Low", 1, 3), ("High", 4, 6)], "band_2_high", "top score 9"),
    (3, [("Low", 1, 6), ("Odd", 7, 8), ("High", 9, 9)], "band_2_low", "holds no score"),
    (3, [("Low", 1, 4), ("High", 6, 5)], "band_2_high", "below where it starts"),
    (3, [("Low", 1, 3), ("", 4, 9)], "band_2_name", "label"),
    (3, [("Low", 1, 3), ("low", 4, 9)], "band_2_name", "both called"),
    (3, [("Low", 1, 3), ("=HYPERLINK(1)", 4, 9)], "band_2_name", "start it with a letter"),
    (3, [("Low", 1, 3), ("Hi\r\ngh", 4, 9)], "band_2_name", "one line"),
    (3, [("Low", 1, 3), ("High", "four", 9)], "band_2_low", "whole number"),
    (3, [("Low", 1, 3), ("High", 4, 10)], "band_2_high", "from 1 to 9"),
    (3, [("Low", 1, 3), ("High", None, 9)], "band_2_low", "lowest score"),
    (3, [("Low", 1, 3), ("High", True, 9)], "band_2_low", "whole number"),
    (3, [("Low", 1, 3), ("High", 2**63, 9)], "band_2_low", "whole number"),
])
def test_bands_that_do_not_hold_every_score_once_are_refused(size, bands, field, words):
    with pytest.raises(RuleError) as refused:
        scoring.matrix_from_bands(size, bands)
    assert refused.value.field == field
    assert words is None or words in refused.value.message


def test_band_changes():
    changes = scoring.band_changes(scoring.DEFAULT, scoring.DUNDEE_3X3, [(1, "inherent", 9), (1, "residual", 4),
                                                                          (2, "residual", 2)])
    assert [(c.key, c.what, c.score, c.before, c.after) for c in changes] == [
        (1, "inherent", 9, "Moderate", "High"), (1, "residual", 4, "Low", "Moderate")]


# --------------------------------------------------------------------------- the service
def test_only_administrators_set_the_matrix(world):
    for who in (world.manager, world.viewer, world.outsider):
        with pytest.raises(NotAllowed):
            services.set_matrix(world.home, 3, THREE, actor=who)
    assert db.session.query(RiskMatrix).count() == 0


def test_setting_the_matrix_never_rewrites_scores_and_is_audited(world, risk):
    reviews = [(r.id, r.inherent.value, r.residual.value) for r in db.session.query(RiskReview)]
    preview = services.preview_matrix(world.home, 3, THREE)
    assert preview.risk_count == 1  # R1: inherent 9 Moderate -> High, residual 4 Low -> Moderate
    assert [(c.what, c.before, c.after) for _, changes in preview.by_risk() for c in changes] == [
        ("inherent", "Moderate", "High"), ("residual", "Low", "Moderate"), ("target", "Low", "Moderate")]
    assert db.session.query(RiskMatrix).count() == 0  # the preview writes nothing
    services.set_matrix(world.home, 3, THREE, actor=world.admin)
    db.session.commit()
    assert [(r.id, r.inherent.value, r.residual.value) for r in db.session.query(RiskReview)] == reviews
    event = db.session.query(AuditEvent).filter_by(entity_type="risk_matrix").one()
    assert event.before == {"matrix": scoring.DEFAULT.describe()}
    assert event.after == {"matrix": "3 x 3: Low 1-3, Moderate 4-6, High 9", "risks_changing_band": 1}
    services.set_matrix(world.home, 3, THREE, actor=world.admin)  # the same again: nothing to record
    db.session.commit()
    assert db.session.query(AuditEvent).filter_by(entity_type="risk_matrix").count() == 1


def test_a_smaller_matrix_is_refused_while_scores_do_not_fit(world, risk):
    services.review_risk(risk, inherent=(4, 4), residual=(2, 2), target=(2, 2), reason="Worse", actor=world.manager)
    with pytest.raises(RuleError, match="R1 is scored beyond 3 x 3") as refused:
        services.set_matrix(world.home, 3, THREE, actor=world.admin)
    assert refused.value.field == "size"


def test_the_cli_calls_the_same_service(app, world, runner):
    result = runner.invoke(args=["risks", "matrix", "--partnership", "Home IJB", "--size", "3",
                                 "--bands", "Low 1-3, Moderate 4-6, High 9"])
    assert result.exit_code == 0 and "3 x 3: Low 1-3, Moderate 4-6, High 9" in result.output
    result = runner.invoke(args=["risks", "matrix", "--partnership", "Home IJB", "--size", "3",
                                 "--bands", "Low 1-3, High 6"])
    assert result.exit_code == 1 and "No band holds the score 4" in result.output


# --------------------------------------------------------------------------- the page
def _form(size, bands, action):
    data = {"size": str(size), "action": action}
    for number, (name, low, high) in enumerate(bands, start=1):
        data.update({f"band_{number}_name": name, f"band_{number}_low": str(low), f"band_{number}_high": str(high)})
    return data


def test_the_settings_page_checks_then_saves(world, risk, client_as):
    url = f"/risks/partnerships/{world.home.id}/matrix"
    manager = client_as(world.manager)
    assert "Change the scoring matrix" not in manager.get(f"/risks/partnerships/{world.home.id}").get_data(True)
    assert manager.get(url).status_code == 403
    admin = client_as(world.admin)
    assert "Change the scoring matrix" in admin.get(f"/risks/partnerships/{world.home.id}").get_data(True)
    page = admin.get(url).get_data(True)
    assert 'value="Very high"' in page and 'value="20"' in page
    page = admin.post(url, data=_form(3, [], "defaults")).get_data(True)  # the 3 x 3 scheme's usual bands
    assert re.search(r'name="band_3_low"[^>]*value="9"', page) and re.search(r'name="band_4_name"[^>]*value=""', page)

    refused = admin.post(url, data=_form(3, [("Low", 1, 3), ("High", 6, 9)], "check"))
    assert refused.status_code == 400
    html = refused.get_data(True)
    assert "There is a problem" in html and "No band holds the score 4" in html and 'href="#band_2_low"' in html

    check = admin.post(url, data=_form(3, THREE, "check"))
    assert check.status_code == 200
    html = check.get_data(True)
    assert "1 existing risk would show in another band." in html and 'id="band-changes"' in html
    assert db.session.query(RiskMatrix).count() == 0
    before = re.search(r'name="before" value="([^"]+)"', html)[1]
    assert before == scoring.DEFAULT.describe()
    stale = admin.post(url, data={**_form(3, THREE, "save"), "before": "3 x 3: Low 1-3, High 4-9"})
    assert stale.status_code == 409 and "changed the scoring matrix while you were checking" in stale.get_data(True)
    saved = admin.post(url, data={**_form(3, THREE, "save"), "before": before})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/risks/partnerships/{world.home.id}")
    assert services.matrix_for(world.home.id) == scoring.DUNDEE_3X3
    assert "Scored on a 3 x 3: Low 1-3, Moderate 4-6, High 9" in admin.get(
        f"/risks/partnerships/{world.home.id}").get_data(True)


def test_forged_matrix_forms_change_nothing(world, client_as):
    admin = client_as(world.admin)
    url = f"/risks/partnerships/{world.home.id}/matrix"
    for data in (_form(7, THREE, "save"), _form(3, [("Low", 1, 3), ("High\x00", 4, 9)], "save"),
                 _form(3, [("Low", 1, 3), ("High", "99999999999999999999", 9)], "save"), {"size": "x"}):
        assert admin.post(url, data=data).status_code == 400
    assert db.session.query(RiskMatrix).count() == 0
    assert client_as(world.outsider).post(f"/risks/partnerships/{world.home.id}/matrix",
                                          data=_form(3, THREE, "save")).status_code == 404
    assert admin.get(f"/risks/partnerships/{2**40}/matrix").status_code == 404
