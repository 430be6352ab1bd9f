from __future__ import annotations

import pytest

from tracker.extensions import db
from tracker.risks import services


@pytest.fixture
def risk(world):
    """A risk on the home plan, owned by the officer, mitigated by the officer's action (due March 2030)."""
    made = services.create_risk(world.home, reference="R1", title="Funding may not rise", inherent=(3, 3),
                                residual=(2, 2), target=(2, 2), owner_id=world.officer.id, plans=[world.plan],
                                actions=[world.officer_action], categories="Financial, Political",
                                actor=world.manager)
    db.session.commit()
    return made
