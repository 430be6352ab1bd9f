"""Demo data: the two risks of Dundee's IJB report DIJB72-2022 (section 6.0 Risk assessment), scored on its
3 x 3 matrix and linked to the delivery-plan actions that mitigate them (a DEMO_STEPS entry). Idempotent."""
from __future__ import annotations

from sqlalchemy import select

from tracker.demo.services import DUNDEE
from tracker.extensions import db
from tracker.plans.models import Action
from tracker.risks import scoring, services
from tracker.risks.models import Risk, RiskMatrix

RECOMMENDATION = "The risk level should be accepted with the expectation that the mitigating actions are taken forward."
RISKS = [
    {"reference": "DIJB72-2022 R1",
     "title": "Carers Act implementation funding unlikely to increase",
     "description": "A number of achievements to date have been supported by Scottish Government Carers (Scotland) "
                    "Act implementation funding. This funding is unlikely to increase in future years which "
                    "potentially restricts the ability to respond to further increase in demand for carers support.",
     "categories": "Financial, Political",
     "mitigations": "Refreshed Carers Strategy identifies priorities and resource requirements for the period of "
                    "the strategy.",
     "inherent": (3, 3), "residual": (2, 2), "target": (2, 2), "owner": "manager@demo.scot",
     "actions": ["3.2.2", "3.1.2"]},  # 3.1.2 is at risk and overdue in the demo: the risk is flagged
    {"reference": "DIJB72-2022 R2",
     "title": "Delays in recruitment to key posts delay implementation",
     "description": "Some of the actions within the Delivery Plan are dependent on recruitment to key posts, "
                    "delays in recruitment will lead to delays in implementation.",
     "categories": "",
     "mitigations": "Key actions to be prioritised\nTimescales to be reviewed regularly\nWhere possible "
                    "recruitment to posts to be prioritised.",
     "inherent": (3, 3), "residual": (3, 2), "target": (3, 2), "owner": "dundee.officer@demo.scot",
     "actions": ["1.7.2", "2.6.1"]},
]


def load_demo_risks(ctx) -> None:
    partnership = ctx.partnerships[DUNDEE]
    plan = ctx.plans[DUNDEE]
    manager = ctx.users["manager@demo.scot"]
    if db.session.scalar(select(RiskMatrix.id).where(RiskMatrix.partnership_id == partnership.id)) is None:
        services.set_matrix(partnership, scoring.DUNDEE_3X3.size, scoring.DUNDEE_3X3.to_json(), actor_id=manager.id)
    by_ref = {a.ref: a for a in db.session.scalars(select(Action).where(Action.plan_id == plan.id))}
    for spec in RISKS:
        exists = db.session.scalar(select(Risk.id).where(Risk.partnership_id == partnership.id,
                                                         Risk.reference == spec["reference"]))
        if exists is not None:
            continue
        owner = ctx.users.get(spec["owner"])
        services.create_risk(
            partnership, reference=spec["reference"], title=spec["title"], description=spec["description"],
            categories=spec["categories"], mitigations=spec["mitigations"], recommendation=RECOMMENDATION,
            owner_id=owner.id if owner else None, inherent=spec["inherent"], residual=spec["residual"],
            target=spec["target"], plans=[plan], actions=[by_ref[r] for r in spec["actions"] if r in by_ref],
            reason="From IJB report DIJB72-2022, section 6.0 Risk assessment", actor_id=manager.id)
    db.session.flush()
