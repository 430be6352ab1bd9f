"""The narrative to show for a progress update: the one place that decides it for every door.

An officer may correct the narrative of their own latest update (tracker.plans.services.correct_update); the
update row keeps the original and each correction is a new row. Pages, the API, e-mails, workbooks and papers
all show the latest correction when there is one, marked "(corrected)" where the reader cannot see the history.

* `shown(original, corrections)`: the pure rule, for a loaded update.
* `shown_sql()` / `corrected_sql()`: the same rule as SQL columns, for doors that read many updates in one query.
* `marked(narrative, corrected)`: the narrative with the marker, for text outside the action page.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from sqlalchemy import ColumnElement, func, select

CORRECTED = "(corrected)"


def shown(original: str, corrections: Sequence) -> str:
    """The latest correction's narrative (corrections oldest first), or the original when there is none."""
    return corrections[-1].narrative if corrections else original


def marked(narrative: str, corrected: bool) -> str:
    """'<narrative> (corrected)' for a corrected update; an empty narrative stays empty."""
    return f"{narrative} {CORRECTED}" if corrected and narrative else narrative


def _corrections(before: dt.datetime | None):
    from tracker.plans.models import ProgressUpdate, UpdateCorrection

    query = select(UpdateCorrection.narrative).where(UpdateCorrection.update_id == ProgressUpdate.id)
    if before is not None:
        query = query.where(UpdateCorrection.created_at < before)
    return query


def shown_sql(before: dt.datetime | None = None) -> ColumnElement[str]:
    """The narrative to show, as a column of a query over ProgressUpdate (corrections made before `before`)."""
    from tracker.plans.models import ProgressUpdate, UpdateCorrection

    latest = (_corrections(before).order_by(UpdateCorrection.created_at.desc(), UpdateCorrection.id.desc())
              .limit(1).scalar_subquery())
    return func.coalesce(latest, ProgressUpdate.narrative)


def corrected_sql(before: dt.datetime | None = None) -> ColumnElement[bool]:
    """Whether the update has been corrected, as a column of a query over ProgressUpdate."""
    return _corrections(before).exists()
