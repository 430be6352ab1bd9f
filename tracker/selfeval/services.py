"""Decisions about self-evaluation rounds: creating, rating, agreeing, movement and benchmarking.

Services flush, never commit; the caller commits once.
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker import text as texts
from tracker.auth.models import Role
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.partnerships.models import Partnership
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, action_items
from tracker.rag import OPEN_STATUSES, Status
from tracker.selfeval.models import ProposedAction, Rating, RoundStatus, SelfEvaluationRound, split_lines

#: Ratings below this level (Not yet established, Partly established) need an open action.
LOW_LEVEL_BELOW = 2
#: Statuses other partnerships may see (benchmarking); drafts stay inside the partnership.
SHARED_STATUSES = (RoundStatus.AGREED, RoundStatus.SUBMITTED)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SelfEvalError(RuleError):
    """A change that is not allowed, with the reason in plain words; nothing was saved."""


class RatingChangedError(Conflict):
    """The rating changed since the form was loaded; nothing was saved."""

    def __init__(self, current: Rating):
        super().__init__("Someone else changed this rating while you were editing it. Your changes are below "
                         "but not saved: open the proposal in a new tab to see theirs, then save again if yours "
                         "should replace them.", "version")
        self.current = current


def _who(actor, actor_id: int | None, partnership_id: int) -> int | None:
    """The acting user's id, after checking a person at a door may manage the partnership's self-evaluation."""
    if actor is None:
        return actor_id
    if not actor.has_role(partnership_id, Role.PLAN_MANAGER):
        raise NotAllowed("Only the partnership's plan managers can change its self-evaluation.")
    return actor.id


def clean_text(text: str | None, what: str, field: str | None = None) -> str:
    """Text as typed, refused if it holds control characters (they cannot be written to Word files)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL_CHARACTERS.search(text):
        raise SelfEvalError(f"The {what} contains hidden control characters. Retype it or paste it as plain text.",
                            field)
    return text


# ---------------------------------------------------------------- rounds

def round_snapshot(round_: SelfEvaluationRound) -> dict:
    return {
        "title": round_.title,
        "completed_on": round_.completed_on,
        "agreed_at": round_.agreed_at,
        "contact": round_.contact,
        "status": round_.status,
    }


#: The longest title, place of agreement or contact a round keeps (its String(300) columns).
ROUND_LINE_MAX = 300


def _round_line(value: str | None, field: str, label: str) -> str | None:
    """One of a round's one-line fields (title, place where it was agreed, contact) by the shared one-line rule."""
    return texts.line(value, field=field, label=label, max_length=ROUND_LINE_MAX)


def _free_title(partnership: Partnership, framework_id: int, title: str, except_id: int | None = None) -> str:
    """The title, cleaned; refused when empty or when the partnership has a round of that name already."""
    title = _round_line(title, "title", "The title")
    if not title:
        raise SelfEvalError("Enter a title for the round.", "title")
    query = select(SelfEvaluationRound.id).where(
        SelfEvaluationRound.partnership_id == partnership.id,
        SelfEvaluationRound.framework_id == framework_id,
        func.lower(SelfEvaluationRound.title) == title.lower(),
    )
    if except_id is not None:
        query = query.where(SelfEvaluationRound.id != except_id)
    if db.session.scalar(query) is not None:
        raise SelfEvalError(f"{partnership.name} already has a round called {title}. Choose another title.",
                            "title")
    return title


def check_new_round(*, partnership: Partnership, framework: Framework, title: str,
                    completed_on: dt.date | None = None, agreed_at: str | None = None,
                    contact: str | None = None) -> dict:
    """The new round's details as `create_round` keeps them; RuleError if it would refuse them (for doors
    such as the import preview that report a refusal before anything is written)."""
    if completed_on is not None:
        texts.date_in_range(completed_on, field="completed_on", label="The date completed")
    if not framework.is_rated:
        raise SelfEvalError(f"{framework.name} has no rating levels, so it cannot be self-evaluated.")
    return {
        "title": _free_title(partnership, framework.id, title),
        "completed_on": completed_on,
        "agreed_at": _round_line(agreed_at, "agreed_at", "The place where it was agreed"),
        "contact": _round_line(contact, "contact", "The contact"),
    }


def create_round(
    *,
    partnership: Partnership,
    framework: Framework,
    title: str,
    actor_id: int | None = None,
    completed_on: dt.date | None = None,
    agreed_at: str | None = None,
    contact: str | None = None,
    previous: SelfEvaluationRound | None = None,
    actor=None,
) -> SelfEvaluationRound:
    """A draft round with an empty rating for every item; evidence is carried forward from `previous`."""
    actor_id = _who(actor, actor_id, partnership.id)
    details = check_new_round(partnership=partnership, framework=framework, title=title, completed_on=completed_on,
                              agreed_at=agreed_at, contact=contact)
    title = details["title"]
    round_ = SelfEvaluationRound(partnership_id=partnership.id, framework_id=framework.id, **details,
                                 status=RoundStatus.DRAFT, previous_round=previous)
    carried = {r.item_id: r for r in previous.ratings} if previous is not None else {}
    for theme in framework.themes:
        for item in theme.items:
            earlier = carried.get(item.id)
            round_.ratings.append(Rating(
                item=item, level=None, evidence=earlier.evidence if earlier and item.local_completion else "",
                proposed_actions="",
            ))
    db.session.add(round_)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="selfeval_round", entity_id=round_.id, verb="create",
                 partnership_id=partnership.id,
                 after={**round_snapshot(round_), "previous_round_id": round_.previous_round_id},
                 summary=f"Started self-evaluation round {title}"
                         + (f" from {previous.title}" if previous is not None else ""))
    return round_


def start_next_round(previous: SelfEvaluationRound, *, title: str, actor_id: int | None = None,
                     completed_on: dt.date | None = None, actor=None) -> SelfEvaluationRound:
    """The next round of the same exercise: ratings empty, evidence carried forward for editing."""
    actor_id = _who(actor, actor_id, previous.partnership_id)
    return create_round(partnership=previous.partnership, framework=previous.framework, title=title,
                        actor_id=actor_id, completed_on=completed_on, contact=previous.contact, previous=previous)


def suggest_next_title(title: str) -> str:
    """'MSG self-evaluation 2019' -> 'MSG self-evaluation 2020', '2019/20' -> '2020/21' (the last year, plus one)."""
    financial = list(re.finditer(r"\b((?:19|20)\d\d)/(\d\d)\b", title))
    if financial:
        last = financial[-1]
        start = int(last.group(1)) + 1
        return f"{title[: last.start()]}{start}/{(start + 1) % 100:02d}{title[last.end():]}"
    years = list(re.finditer(r"(19|20)\d\d", title))
    if not years:
        return f"{title} (next round)"
    last = years[-1]
    return title[: last.start()] + str(int(last.group()) + 1) + title[last.end():]


def edit_round(round_: SelfEvaluationRound, *, actor_id: int | None = None, title: str,
               completed_on: dt.date | None, agreed_at: str | None, contact: str | None,
               actor=None) -> SelfEvaluationRound:
    actor_id = _who(actor, actor_id, round_.partnership_id)
    if completed_on is not None:
        texts.date_in_range(completed_on, field="completed_on", label="The date completed")
    title = _free_title(round_.partnership, round_.framework_id, title, except_id=round_.id)
    agreed_at = _round_line(agreed_at, "agreed_at", "The place where it was agreed")
    contact = _round_line(contact, "contact", "The contact")
    before = round_snapshot(round_)
    round_.title = title
    round_.completed_on = completed_on
    round_.agreed_at = agreed_at
    round_.contact = contact
    old, new = audit.changes(before, round_snapshot(round_))
    if old or new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="selfeval_round", entity_id=round_.id, verb="update",
                     partnership_id=round_.partnership_id, before=old, after=new,
                     summary=f"Edited the details of {round_.title}")
    return round_


def unrated_items(round_: SelfEvaluationRound) -> list[FrameworkItem]:
    return sorted((r.item for r in round_.ratings if r.item.local_completion and r.level is None),
                  key=_item_order)


#: Allowed status changes: a round is agreed (every proposal rated), then submitted.
NEXT_STATUS = {RoundStatus.DRAFT: RoundStatus.AGREED, RoundStatus.AGREED: RoundStatus.SUBMITTED}


def change_status(round_: SelfEvaluationRound, to: RoundStatus, *, actor_id: int | None = None,
                  actor=None) -> SelfEvaluationRound:
    """Agree a draft (all proposals for local completion rated) or mark an agreed round submitted."""
    actor_id = _who(actor, actor_id, round_.partnership_id)
    to = RoundStatus(to)
    current = RoundStatus(round_.status)
    if NEXT_STATUS.get(current) is not to:
        raise SelfEvalError(f"A round that is {current.label.lower()} cannot be marked {to.label.lower()}.")
    if to is RoundStatus.AGREED:
        missing = unrated_items(round_)
        if missing:
            numbers = ", ".join(item.number for item in missing)
            raise SelfEvalError(f"Rate every proposal before agreeing the round. Not rated yet: {numbers}.")
    round_.status = to
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="selfeval_round", entity_id=round_.id,
                 verb="agree" if to is RoundStatus.AGREED else "submit",
                 partnership_id=round_.partnership_id, before={"status": current.value}, after={"status": to.value},
                 summary=f"Marked {round_.title} {to.label.lower()}")
    return round_


# ---------------------------------------------------------------- ratings

def rating_snapshot(rating: Rating) -> dict:
    return {
        "level": rating.level,
        "evidence": rating.evidence,
        "participants": rating.participants,
        "proposed_actions": rating.proposed_actions,
    }


#: A rating nobody has filled in: what `create_round` gives every proposal.
EMPTY_RATING = {"level": None, "evidence": "", "participants": None, "proposed_actions": ""}


@dataclass(frozen=True)
class RatingChange:
    """What saving a rating would do: its new values, the audit trail's before and after, and the reason."""

    after: dict
    old: dict
    new: dict
    reason: str

    @property
    def changed(self) -> bool:
        return bool(self.old or self.new)


def check_rating(
    item: FrameworkItem,
    *,
    status: RoundStatus,
    levels: list[str],
    before: dict,
    level: int | None,
    evidence: str,
    participants: str | None,
    proposed_actions: str,
    reason: str | None = None,
) -> RatingChange:
    """The rules of a rating, without writing anything: `before` is the rating as it stands (`rating_snapshot`,
    or EMPTY_RATING for one not made yet) in a round of `status`. Raises SelfEvalError as `rate` would: a proposal
    not for local completion is never rated, a level must be one of the framework's, and once the round is
    agreed any change needs a reason. `rate` saves through this; the import preview reports its refusals."""
    if not item.local_completion:
        raise SelfEvalError(f"Proposal {item.number} is not for local completion, so it cannot be rated.")
    if level is not None and not 0 <= level < len(levels):
        raise SelfEvalError("Choose one of the ratings shown.", "level")
    after = {
        "level": level,
        "evidence": "\n".join(split_lines(clean_text(evidence, "evidence", "evidence"))),
        "participants": clean_text(participants, "list of who took part", "participants") or None,
        "proposed_actions": "\n".join(split_lines(
            clean_text(proposed_actions, "proposed improvement actions", "proposed_actions"))),
    }
    old, new = audit.changes(before, after)
    if not (old or new):
        return RatingChange(after, old, new, "")
    reason = clean_text(reason, "reason", "reason")
    status = RoundStatus(status)
    if status is not RoundStatus.DRAFT and not reason:
        raise SelfEvalError(f"This round is {status.label.lower()}. Give a reason for changing the rating.",
                            "reason")
    return RatingChange(after, old, new, reason)


def rate(
    rating: Rating,
    *,
    actor_id: int | None = None,
    actor=None,
    level: int | None,
    evidence: str,
    participants: str | None,
    proposed_actions: str,
    reason: str | None = None,
    expected_version: int | None = None,
    verb: str = "update",
) -> Rating:
    """Save a rating; once the round is agreed, any change needs a reason (kept in the audit trail).

    `verb` names the change in the audit trail ("import" when an imported return rated it)."""
    actor_id = _who(actor, actor_id, rating.round.partnership_id)
    if expected_version is not None and rating.version != expected_version:
        raise RatingChangedError(rating)
    change = check_rating(rating.item, status=rating.round.status, levels=rating.round.framework.levels,
                          before=rating_snapshot(rating), level=level, evidence=evidence,
                          participants=participants, proposed_actions=proposed_actions, reason=reason)
    if not change.changed:
        return rating
    for key, value in change.after.items():
        setattr(rating, key, value)
    db.session.flush()
    new = dict(change.new)
    if change.reason:
        new["reason"] = change.reason
    agreed = RoundStatus(rating.round.status) is not RoundStatus.DRAFT
    done = "Imported rating of" if verb == "import" else "Rated"
    audit.record(user_id=actor_id, entity_type="selfeval_rating", entity_id=rating.id, verb=verb,
                 partnership_id=rating.round.partnership_id, before=change.old, after=new,
                 summary=f"{done} proposal {rating.item.number} in {rating.round.title}"
                         + (f" after it was agreed: {change.reason}" if agreed else ""))
    return rating


# ---------------------------------------------------------------- proposed actions -> tracked actions

def plans_for(round_: SelfEvaluationRound) -> list[Plan]:
    """The partnership's current plans on the round's framework: where a proposed action can be tracked."""
    return list(db.session.scalars(select(Plan).where(
        Plan.partnership_id == round_.partnership_id, Plan.framework_id == round_.framework_id,
        Plan.archived_at.is_(None)).order_by(Plan.created_at.desc(), Plan.id.desc())))


def _check_plan(proposed: ProposedAction, plan: Plan) -> None:
    round_ = proposed.rating.round
    if plan.partnership_id != round_.partnership_id or plan.archived_at is not None:
        raise SelfEvalError("Choose one of your partnership's plans.")


def track_proposed_action(proposed: ProposedAction, *, plan: Plan, actor_id: int | None = None,
                          actor=None, lead_officer_id: int | None = None) -> Action:
    """Turn a proposed improvement action into a tracked action on `plan`, linked to the proposal: its
    reference is the plan's next one for the proposal's item, its lead the officer the manager chose."""
    actor_id = _who(actor, actor_id, proposed.rating.round.partnership_id)
    if proposed.action_id is not None:
        raise SelfEvalError("This proposed action is already tracked.")
    _check_plan(proposed, plan)
    rating = proposed.rating
    action = plans.create_action(plan=plan, text=proposed.text, items=[rating.item], status=Status.NOT_STARTED,
                                 ref=plans.next_ref(plan, rating.item.number), lead_officer_id=lead_officer_id,
                                 actor_id=actor_id)
    _link(proposed, action, actor_id=actor_id, verb="track")
    return action


def link_proposed_action(proposed: ProposedAction, *, action: Action, actor_id: int | None = None,
                         actor=None) -> Action:
    """Link a proposed improvement action to an existing tracked action (which then addresses the proposal)."""
    actor_id = _who(actor, actor_id, proposed.rating.round.partnership_id)
    _check_plan(proposed, action.plan)
    item = proposed.rating.item
    if item not in action.items:
        plans.edit_action(action, expected_version=None, actor_id=actor_id, items=[*action.items, item])
    _link(proposed, action, actor_id=actor_id, verb="link")
    return action


def unlink_proposed_action(proposed: ProposedAction, *, actor_id: int | None = None, actor=None) -> None:
    actor_id = _who(actor, actor_id, proposed.rating.round.partnership_id)
    if proposed.action_id is None:
        return
    before = {"action_id": proposed.action_id}
    proposed.action = None
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="selfeval_proposed_action", entity_id=proposed.id, verb="unlink",
                 partnership_id=proposed.rating.round.partnership_id, before=before, after={"action_id": None},
                 summary=f"Unlinked a proposed action of {proposed.rating.item.number} from its tracked action")


def _link(proposed: ProposedAction, action: Action, *, actor_id: int | None, verb: str) -> None:
    before = {"action_id": proposed.action_id}
    proposed.action = action
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="selfeval_proposed_action", entity_id=proposed.id, verb=verb,
                 partnership_id=action.plan.partnership_id, plan_id=action.plan_id, before=before,
                 after={"action_id": action.id, "text": proposed.text},
                 summary=f"Linked a proposed action of {proposed.rating.item.number} to action {action.ref}")


def find_action(plan: Plan, ref: str) -> Action:
    action = db.session.scalar(select(Action).where(Action.plan_id == plan.id, Action.ref == ref.strip()))
    if action is None:
        raise SelfEvalError(f"{plan.name} has no action with reference {ref.strip()}. Check the reference.")
    return action


# ---------------------------------------------------------------- movement and the overview

class Movement(enum.StrEnum):
    UP = "up"
    SAME = "same"
    DOWN = "down"
    NEW = "new"  # rated now, not rated (or not present) in the previous round
    NOT_RATED = "not_rated"

    @property
    def label(self) -> str:
        return {"up": "Up", "same": "Same", "down": "Down", "new": "New", "not_rated": "Not rated"}[self.value]


def movement(current: int | None, previous: int | None) -> Movement:
    if current is None:
        return Movement.NOT_RATED
    if previous is None:
        return Movement.NEW
    if current > previous:
        return Movement.UP
    if current < previous:
        return Movement.DOWN
    return Movement.SAME


@dataclass
class ActionCounts:
    open: int = 0
    overdue: int = 0


def action_counts(partnership_id: int, framework_id: int, today: dt.date) -> dict[int, ActionCounts]:
    """Open and overdue actions per framework item in a partnership's current plans (one query)."""
    is_open = Action.status.in_([s.value for s in OPEN_STATUSES])
    query = (
        select(
            action_items.c.item_id,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, Action.due_end < today), 1), else_=0)),
        )
        .join(Action, Action.id == action_items.c.action_id)
        .join(Plan, Plan.id == Action.plan_id)
        .where(Plan.partnership_id == partnership_id, Plan.framework_id == framework_id, Plan.archived_at.is_(None))
        .group_by(action_items.c.item_id)
    )
    return {item_id: ActionCounts(int(open_ or 0), int(overdue or 0))
            for item_id, open_, overdue in db.session.execute(query)}


@dataclass
class OverviewRow:
    item: FrameworkItem
    rating: Rating | None
    previous_level: int | None
    movement: Movement | None  # None for proposals not for local completion
    counts: ActionCounts

    @property
    def flagged(self) -> bool:
        """A low rating with nothing open to improve it."""
        return (self.rating is not None and self.rating.level is not None
                and self.rating.level < LOW_LEVEL_BELOW and self.counts.open == 0)


@dataclass
class ThemeSummary:
    theme: Theme
    rows: list[OverviewRow]
    by_level: list[int]  # counts per level, in level order
    by_movement: Counter = field(default_factory=Counter)


def load_round(round_id: int) -> SelfEvaluationRound | None:
    """A round with its ratings, items and proposed actions loaded in a fixed number of queries."""
    return db.session.scalar(select(SelfEvaluationRound).where(SelfEvaluationRound.id == round_id).options(
        selectinload(SelfEvaluationRound.ratings).selectinload(Rating.item),
        selectinload(SelfEvaluationRound.ratings).selectinload(Rating.proposed).selectinload(ProposedAction.action)
        .selectinload(Action.plan),
        selectinload(SelfEvaluationRound.framework).selectinload(Framework.themes).selectinload(Theme.items),
    ).execution_options(populate_existing=True))


def compared_round(round_: SelfEvaluationRound) -> SelfEvaluationRound | None:
    """The round this one is compared with: the one it was started from, else the partnership's latest earlier one."""
    if round_.previous_round_id is not None:
        return round_.previous_round

    def when(r: SelfEvaluationRound) -> tuple[dt.date, dt.datetime]:
        return (r.completed_on or r.created_at.date(), r.created_at)

    others = db.session.scalars(select(SelfEvaluationRound).where(
        SelfEvaluationRound.partnership_id == round_.partnership_id,
        SelfEvaluationRound.framework_id == round_.framework_id, SelfEvaluationRound.id != round_.id))
    earlier = [r for r in others if when(r) < when(round_)]
    return max(earlier, key=when, default=None)


@dataclass
class Overview:
    compared: SelfEvaluationRound | None
    themes: list[ThemeSummary]


def overview(round_: SelfEvaluationRound, today: dt.date) -> Overview:
    """Every item with its rating, its movement since the compared round, and its open and overdue actions."""
    ratings = {r.item_id: r for r in round_.ratings}
    compared = compared_round(round_)
    previous = dict(db.session.execute(select(Rating.item_id, Rating.level).where(
        Rating.round_id == compared.id)).all()) if compared is not None else {}
    counts = action_counts(round_.partnership_id, round_.framework_id, today)
    levels = round_.framework.levels
    summaries = []
    for theme in round_.framework.themes:
        summary = ThemeSummary(theme=theme, rows=[], by_level=[0] * len(levels))
        for item in theme.items:
            rating = ratings.get(item.id)
            level = rating.level if rating else None
            previous_level = previous.get(item.id)
            move = movement(level, previous_level) if item.local_completion else None
            summary.rows.append(OverviewRow(item, rating, previous_level, move, counts.get(item.id, ActionCounts())))
            if level is not None:
                summary.by_level[level] += 1
            if move is not None and compared is not None:
                summary.by_movement[move] += 1
        summaries.append(summary)
    return Overview(compared, summaries)


# ---------------------------------------------------------------- a proposal across rounds

@dataclass
class ProposalHistory:
    ratings: list[Rating]  # newest round first
    actions: list[Action]


def proposal_history(partnership_id: int, item: FrameworkItem) -> ProposalHistory:
    """Every round's rating of one proposal, and every action linked to it in the partnership."""
    ratings = list(db.session.scalars(
        select(Rating).join(SelfEvaluationRound, SelfEvaluationRound.id == Rating.round_id)
        .where(SelfEvaluationRound.partnership_id == partnership_id, Rating.item_id == item.id)
        .options(selectinload(Rating.round), selectinload(Rating.proposed))
        .order_by(SelfEvaluationRound.completed_on.desc().nulls_first(), SelfEvaluationRound.created_at.desc())
    ))
    linked_ids = select(ProposedAction.action_id).where(
        ProposedAction.rating_id.in_([r.id for r in ratings]), ProposedAction.action_id.is_not(None))
    tagged_ids = select(action_items.c.action_id).where(action_items.c.item_id == item.id)
    actions = list(db.session.scalars(
        select(Action).join(Plan, Plan.id == Action.plan_id)
        .where(Plan.partnership_id == partnership_id, or_(Action.id.in_(linked_ids), Action.id.in_(tagged_ids)))
        .options(selectinload(Action.plan), selectinload(Action.lead_officer))
        .order_by(Plan.name, Action.id)
    ))
    return ProposalHistory(ratings, actions)


# ---------------------------------------------------------------- benchmarking

@dataclass
class Benchmark:
    framework: Framework
    rounds: list[SelfEvaluationRound]  # one per partnership: its latest agreed or submitted round
    levels: dict[tuple[int, int], int | None]  # (round id, item id) -> level
    distribution: dict[int, list[int]]  # item id -> count of partnerships per level

    def level(self, round_: SelfEvaluationRound, item: FrameworkItem) -> int | None:
        return self.levels.get((round_.id, item.id))


def latest_shared_rounds(framework: Framework, partnership_ids: set[int] | None) -> list[SelfEvaluationRound]:
    """Each partnership's latest agreed or submitted round on a framework; drafts are never included."""
    query = (
        select(SelfEvaluationRound)
        .where(SelfEvaluationRound.framework_id == framework.id,
               SelfEvaluationRound.status.in_([s.value for s in SHARED_STATUSES]))
        .options(selectinload(SelfEvaluationRound.partnership))
        .order_by(SelfEvaluationRound.partnership_id, SelfEvaluationRound.completed_on.desc().nulls_last(),
                  SelfEvaluationRound.created_at.desc(), SelfEvaluationRound.id.desc())
    )
    if partnership_ids is not None:
        query = query.where(SelfEvaluationRound.partnership_id.in_(partnership_ids))
    latest: dict[int, SelfEvaluationRound] = {}
    for round_ in db.session.scalars(query):
        latest.setdefault(round_.partnership_id, round_)
    return sorted(latest.values(), key=lambda r: r.partnership.name)


def benchmark(framework: Framework, partnership_ids: set[int] | None) -> Benchmark:
    rounds = latest_shared_rounds(framework, partnership_ids)
    levels: dict[tuple[int, int], int | None] = {}
    distribution: dict[int, list[int]] = defaultdict(lambda: [0] * len(framework.levels))
    if rounds:
        rows = db.session.execute(select(Rating.round_id, Rating.item_id, Rating.level).where(
            Rating.round_id.in_([r.id for r in rounds])))
        for round_id, item_id, level in rows:
            levels[(round_id, item_id)] = level
            if level is not None:
                distribution[item_id][level] += 1
    return Benchmark(framework, rounds, levels, dict(distribution))


def rated_frameworks(partnership_ids: set[int] | None) -> list[Framework]:
    """Frameworks with rating levels that these partnerships may use (national ones and their own)."""
    query = select(Framework).order_by(Framework.name)
    frameworks = [f for f in db.session.scalars(query) if f.is_rated]
    if partnership_ids is None:
        return frameworks
    return [f for f in frameworks if f.partnership_id is None or f.partnership_id in partnership_ids]


def _item_order(item: FrameworkItem) -> tuple[int, int]:
    return (item.theme.position, item.position)
