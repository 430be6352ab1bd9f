"""The API's risk endpoints, and the register's query count (independent of the number of risks)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from tests import factories
from tracker.extensions import db
from tracker.risks import queries, services
from tracker.risks.papers import risk_section


def test_read_risks_and_record_a_review(world, risk, api):
    client = api(world.viewer)
    body = client.get(f"/api/v1/plans/{world.plan.id}/risks").get_json()
    (item,) = body["items"]
    assert item["reference"] == "R1" and item["inherent"] == {"likelihood": 3, "impact": 3, "score": 9,
                                                              "band": "Moderate"}
    assert item["residual"]["score"] == 4 and item["categories"] == ["Financial", "Political"]
    assert client.get(f"/api/v1/risks/{risk.id}").get_json()["history"][0]["reason"] == "Added to the register"
    review = {"inherent": {"likelihood": 3, "impact": 3}, "residual": {"likelihood": 3, "impact": 2},
              "target": {"likelihood": 2, "impact": 2}, "reason": "Recruitment slipped", "review_date": "2027-03-31"}
    assert client.post(f"/api/v1/risks/{risk.id}/reviews", json=review).status_code == 403
    owner = api(world.officer)
    response = owner.post(f"/api/v1/risks/{risk.id}/reviews", json=review)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["risk"]["residual"]["score"] == 6
    assert response.get_json()["risk"]["review_date"] == "2027-03-31"
    for bad in ({**review, "extra": 1}, {**review, "reason": ""}, {**review, "residual": {"likelihood": 9, "impact": 9}},
                {**review, "review_date": "2027-02-30"}, {**review, "inherent": [3, 3]}, [], "x"):
        assert owner.post(f"/api/v1/risks/{risk.id}/reviews", json=bad).status_code == 400, bad
    assert api(world.outsider).get(f"/api/v1/risks/{risk.id}").status_code == 404
    assert client.get(f"/api/v1/risks/{2**40}").status_code == 404
    assert len(services.history(risk)) == 2


def _count(function) -> int:
    statements = []

    def listener(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        db.session.expire_all()
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def _add_risks(world, start: int, count: int) -> None:
    for n in range(start, start + count):
        action = factories.action(world.plan, lead=world.officer, ref=f"M{n}",
                                  timescale="March 2020" if n % 2 else "March 2030")
        services.create_risk(world.home, reference=f"Q{n}", title=f"Risk {n}", inherent=(4, 4), residual=(3, 2),
                             target=(2, 2), owner_id=world.officer.id, plans=[world.plan],
                             actions=[action, world.officer_action], categories="Financial", actor=world.manager)
    db.session.commit()


def test_query_count_does_not_grow_with_the_number_of_risks(world, client_as):
    day = dt.date.today()
    _add_risks(world, 0, 2)
    few = (_count(lambda: queries.register(partnership_id=world.home.id, day=day)),
           _count(lambda: risk_section(db.session, world.plan, day)),
           _count(lambda: queries.flagged_risks_for(world.manager, day)))
    client = client_as(world.viewer)
    page_few = _count(lambda: client.get(f"/risks/partnerships/{world.home.id}"))
    _add_risks(world, 2, 10)
    many = (_count(lambda: queries.register(partnership_id=world.home.id, day=day)),
            _count(lambda: risk_section(db.session, world.plan, day)),
            _count(lambda: queries.flagged_risks_for(world.manager, day)))
    page_many = _count(lambda: client.get(f"/risks/partnerships/{world.home.id}"))
    assert few == many
    assert page_few == page_many
