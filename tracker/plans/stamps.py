"""A counter that moves whenever a name the plan page's cached table (or My actions) shows is changed, in any process.

The plan page caches its rendered action table per process, keyed by a stamp of the plan's actions
(`queries.plan_stamp`). The table also shows names kept elsewhere: lead officers' names, key features' and
proposals' numbers and titles, the framework's labels. Any flush that changes one of those bumps this
counter in the same transaction, and the stamp includes it, so no process serves a table older than the
last committed change (there is no time-based expiry to wait for).

A second counter (row EXTRAS_ID) moves with any change to what the plan page shows around its table: the
filter form's officers and organisations, the indicators section, the risks section (`EXTRAS_WATCHED`: every
row of those classes, any attribute). Rows written with Core statements, and links changed from the other
side, are seen by the aggregates of `tracker.plans.queries.plan_page_stamp` instead.
"""
from __future__ import annotations

from sqlalchemy import Integer, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.extensions import db

#: model class name -> the attributes the plan page shows
WATCHED = {
    "User": ("name",),
    "Theme": ("number", "title"),
    "FrameworkItem": ("number", "title"),
    "Framework": ("theme_label", "item_label", "name"),
    # My actions shows each action's plan by name, and the plans a person manages (tracker.plans.queries
    # my_actions_stamp); the plan table is keyed by the plan's framework too.
    "Plan": ("name", "archived_at", "manager_id", "framework_id", "partnership_id"),
}


#: model class name -> the attributes that move the EXTRAS_ID counter (None: any change, new or deleted rows)
EXTRAS_WATCHED: dict[str, tuple[str, ...] | None] = {
    "User": ("name", "active"),
    **dict.fromkeys(("Membership", "Organisation", "Indicator", "IndicatorTarget", "IndicatorValue",
                     "IndicatorBreakdown", "Risk", "RiskReview", "RiskMatrix")),
}
NAMES_ID, EXTRAS_ID = 1, 2


class NameStamp(db.Model):
    __tablename__ = "name_stamps"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=lambda: 0)


def counter_column(row: int = NAMES_ID):
    """The counter as a scalar subquery, for the plan stamp's one statement (0 before the first change)."""
    return select(NameStamp.counter).where(NameStamp.id == row).scalar_subquery()


def _changes_an_extra(session: Session) -> bool:
    for obj in (*session.new, *session.deleted):
        if type(obj).__name__ in EXTRAS_WATCHED:
            return True
    for obj in session.dirty:
        name = type(obj).__name__
        if name not in EXTRAS_WATCHED:
            continue
        names = EXTRAS_WATCHED[name]
        if names is None:
            if session.is_modified(obj):
                return True
        else:
            state = db.inspect(obj)
            if any(state.attrs[n].history.has_changes() for n in names):
                return True
    return False


def _changes_a_watched_name(session: Session) -> bool:
    for obj in (*session.new, *session.deleted):
        if type(obj).__name__ in WATCHED:
            return True
    for obj in session.dirty:
        names = WATCHED.get(type(obj).__name__)
        if names:
            state = db.inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in names):
                return True
    return False


@event.listens_for(Session, "before_flush")
def _note(session: Session, _context, _instances) -> None:
    if _changes_a_watched_name(session):
        session.info["names_changed"] = True
    if _changes_an_extra(session):
        session.info["extras_changed"] = True


@event.listens_for(Session, "after_flush")
def _bump(session: Session, _context) -> None:
    for flag, row in (("names_changed", NAMES_ID), ("extras_changed", EXTRAS_ID)):
        if session.info.pop(flag, False):
            bump(session, row)


def bump(session: Session, row: int = NAMES_ID) -> None:
    """Move a counter in the session's transaction (for writes the flush events do not see)."""
    connection = session.connection()
    moved = connection.execute(update(NameStamp).where(NameStamp.id == row).values(counter=NameStamp.counter + 1))
    if moved.rowcount == 0:
        connection.execute(insert(NameStamp).values(id=row, counter=1))
