"""Funnel health folded from deal events, by business time: per period, stage and owner (rep and team).

A stay is a deal's time in one stage. Its entry puts it in a cohort (the period it entered, the owner
then); the way it ends (advanced, regressed, lost) is counted on that cohort, and its length on the
period it ended in, under the owner then. Each assignment of a deal to a rep is followed until the
owner's first activity; the ones still waiting are indexed by deadline for the first-touch watcher.

An event counts on several documents, and most documents are counted on by many events of a batch:
the fold only notes which documents it changed, and makes their changes (keys, index) once a batch.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.deal import Deal
from domain.gates import DEFAULT_GATE_POLICY, GatePolicy
from domain.periods import period_of
from domain.stages import FUNNEL, Stage, stages_entered
from projections.read_model import Changes, DocChange, Document, instant_key, topic_of

NAME = "funnel"
TOPICS: tuple[str, ...] = (
    "domain.rep:Rep.Onboarded",
    "domain.gate_book:GateBook.PolicyPublished",
    "domain.deal:Deal.Opened",
    "domain.deal:Deal.Reassigned",
    "domain.deal:Deal.ActivityLogged",
    "domain.deal:Deal.StageMoved",
    "domain.deal:Deal.StageMoveBlocked",
    "domain.deal:Deal.Lost",
    "domain.deal:Deal.Won",
    "domain.deal:Deal.FirstTouchOverdue",
)
COUNTED = ("cell", "follow", "quality")
EXITS = ("advanced", "regressed", "lost")
OPEN = "~"  # sorts after every period

# A counted document in memory: kind, period, by ("rep" or "team"), group, stage ("" but for cells).
Counted = tuple[str, str, str, str, str]


def new_doc(kind: str, period: str, by: str, group: str, stage: str = "") -> Document:
    if kind == "cell":
        counts: Document = {name: 0 for name in ("entered", *EXITS, "blocked")}
        return {"period": period, "stage": stage, "by": by, "group": group, **counts, "missing": {},
                "stay_seconds": []}  # fmt: skip
    if kind == "follow":
        counts = {name: 0 for name in ("assigned", "in_sla", "late", "untouched", "withdrawn", "overdue")}
        return {"period": period, "by": by, "group": group, **counts}
    return {"period": period, "by": by, "group": group, "activities": {}, "deals": [], "moves": 0,
            "blocked": 0, "missing": {}, "template": {}}  # fmt: skip


def counted_key(kind: str, period: str, by: str, group: str, stage: str = "") -> str:
    return f"{period}|{by}:{group}|{stage}" if kind == "cell" else f"{period}|{by}:{group}"


# Stages and their ranks by name, without building the enum member on every event.
_STAGES = {stage.value: stage for stage in Stage}
_RANKS = {stage.value: stage.rank for stage in FUNNEL}


def _stage(value: str) -> Stage:
    stage = _STAGES.get(value)
    # Not a stage at all: fails as the enum always did.
    return Stage(value) if stage is None else stage


def _rank(stage: str) -> int:
    rank = _RANKS.get(stage)
    # Off the funnel (or no stage at all): fails as the enum always did.
    return Stage(stage).rank if rank is None else rank


def index_of(kind: str, doc: Document) -> tuple[str, str]:
    """Partition and sort key of a counted document: by period, then owner, then stage."""
    rank = f"|{_rank(doc['stage'])}" if kind == "cell" else ""
    return doc["period"], f"{doc['by']}:{doc['group']}{rank}"


def stay_index(stay: Document) -> tuple[str, str, str]:
    """Key, partition and sort key of a stay: by stage, then the period the stay ended in (open ones
    last) and entry, so "in the stage at the end of P" reads only stays still open or ended after P."""
    # An ISO instant begins with its own wall-clock year and month, as `period_of` has them.
    ended = stay["ended_at"][:7] if stay["ended_at"] else OPEN
    sort = f"{ended}|{instant_key(datetime.fromisoformat(stay['entered_at']))}"
    return f"{stay['deal_id']}|{stay['seq']:04d}", stay["stage"], sort


class FunnelHealth:
    name = NAME
    topics = TOPICS
    state_kinds: tuple[str, ...] = ("rep", "deal", "policy", *COUNTED)

    def __init__(self) -> None:
        self.reps: dict[str, Document] = {}
        self.deals: dict[str, Document] = {}
        # By the deal's originator id as a number: a UUID hashes and compares in Python, an int does not.
        self.deal_ids: dict[int, str] = {}
        self.counted: dict[Counted, Document] = {}
        self.policy = DEFAULT_GATE_POLICY
        # Reps, the policy and first-touch deadlines; the documents below are noted as changed instead.
        self.changes = Changes()
        self.changed_counted: dict[Counted, Document] = {}
        self.changed_deals: dict[str, Document] = {}
        # By the stay's deal and number: a stay is changed again as its deal goes on.
        self.changed_stays: dict[tuple[str, int], Document] = {}
        folds: tuple[Callable[[Any], None], ...] = (
            self._onboarded,
            self._policy_published,
            self._opened,
            self._reassigned,
            self._activity_logged,
            self._stage_moved,
            self._move_blocked,
            self._lost,
            self._won,
            self._first_touch_overdue,
        )
        self.handlers = dict(zip(TOPICS, folds, strict=True))
        # The handler of each event class, so that its topic is spelled once, not once an event.
        self.by_class: dict[type, Callable[[Any], None] | None] = {}

    def apply(self, event: Any, position: int) -> None:
        cls = type(event)
        try:
            handler = self.by_class[cls]
        except KeyError:
            handler = self.by_class[cls] = self.handlers.get(topic_of(event))
        if handler is not None:
            handler(event)

    def take_changes(self) -> list[DocChange]:
        changes = self.changes.take()
        for (kind, period, by, group, stage), doc in self.changed_counted.items():
            part, sort = index_of(kind, doc)
            changes.append(DocChange(kind, counted_key(kind, period, by, group, stage), doc, part, sort))
        for stay in self.changed_stays.values():
            key, part, sort = stay_index(stay)
            changes.append(DocChange("stay", key, stay, part, sort))
        changes.extend(DocChange("deal", deal_id, deal) for deal_id, deal in self.changed_deals.items())
        self.changed_counted, self.changed_stays, self.changed_deals = {}, {}, {}
        return changes

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "rep":
            self.reps[key] = doc
        elif kind == "deal":
            self.deals[key] = doc
            self.deal_ids[Deal.create_id(key).int] = key
        elif kind == "policy":
            self.policy = GatePolicy.model_validate(doc)
        else:
            self.counted[(kind, doc["period"], doc["by"], doc["group"], doc.get("stage", ""))] = doc

    # Events

    def _onboarded(self, e: Any) -> None:
        self.reps[e.rep_id] = {"team": e.team, "role": e.role}
        self.changes.put("rep", e.rep_id, self.reps[e.rep_id])

    def _policy_published(self, e: Any) -> None:
        self.policy = GatePolicy.model_validate(e.policy)
        self.changes.put("policy", "current", dict(e.policy))

    def _opened(self, e: Any) -> None:
        deal: Document = {"deal_id": e.deal_id, "stage": None, "stay": None, "seq": 0, "activities": {}}
        self.deals[e.deal_id] = deal
        self.deal_ids[e.originator_id.int] = e.deal_id
        self._own(deal, e.owner_rep_id, e.owner_role)
        at = e.occurred_at
        period, iso = period_of(at), at.isoformat()
        self._enter(deal, Stage.LEAD, period, iso)
        self._assign(deal, at, period, iso, e.first_touch_due_at)
        self.changed_deals[e.deal_id] = deal

    def _reassigned(self, e: Any) -> None:
        deal = self._deal(e)
        self._own(deal, e.owner_rep_id, e.owner_role)
        at = e.occurred_at
        iso = at.isoformat()
        stay = deal["stay"]
        if stay is not None:
            stay["owners"].append([iso, deal["owner"], deal["team"]])
            self._changed_stay(stay)
        self._assign(deal, at, period_of(at), iso, e.first_touch_due_at)

    def _activity_logged(self, e: Any) -> None:
        deal = self._deal(e)
        kind, at = e.kind, e.occurred_at
        activities = deal["activities"]
        activities[kind] = activities.get(kind, 0) + 1
        quality = self._counted("quality", period_of(at), "rep", e.rep_id)
        activities = quality["activities"]
        activities[kind] = activities.get(kind, 0) + 1
        # Kept sorted: a deal is added where it belongs, once.
        deals, deal_id = quality["deals"], deal["deal_id"]
        where = bisect_left(deals, deal_id)
        if where == len(deals) or deals[where] != deal_id:
            deals.insert(where, deal_id)
        assignment = deal["assignment"]
        if assignment["touch"] is None and e.rep_id == assignment["rep"]:
            self._stop_waiting(deal)
            # Overdue at the deadline itself, as the domain has it: a touch must come before it.
            in_sla = at < datetime.fromisoformat(assignment["due_at"])
            touch = assignment["touch"] = "in_sla" if in_sla else "late"
            self._follow(assignment, "untouched", -1)
            self._follow(assignment, touch)
        self.changed_deals[deal_id] = deal

    def _stage_moved(self, e: Any) -> None:
        deal = self._deal(e)
        to_stage, from_stage = _stage(e.to_stage), _stage(deal["stage"])
        forward = _rank(to_stage) > _rank(from_stage)
        at = e.occurred_at
        period, iso = period_of(at), at.isoformat()
        self._leave(deal, at, period, iso, "advanced" if forward else "regressed")
        if forward:
            self._check_template(deal, stages_entered(from_stage, to_stage), period)
        self._enter(deal, to_stage, period, iso)
        self._counted("quality", period, "rep", e.rep_id)["moves"] += 1
        self.changed_deals[deal["deal_id"]] = deal

    def _move_blocked(self, e: Any) -> None:
        deal = self._deal(e)
        period = period_of(e.occurred_at)
        for doc in (
            *self._cells(period, e.to_stage, deal["owner"], deal["team"]),
            self._counted("quality", period, "rep", e.rep_id),
        ):
            doc["blocked"] += 1
            missing = doc["missing"]
            for gap in e.missing:
                missing[gap["item"]] = missing.get(gap["item"], 0) + 1

    def _lost(self, e: Any) -> None:
        deal = self._deal(e)
        at = e.occurred_at
        self._leave(deal, at, period_of(at), at.isoformat(), "lost")
        self._close(deal, Stage.LOST, at)

    def _won(self, e: Any) -> None:
        deal = self._deal(e)
        if deal["stage"] == Stage.WON:
            return  # a further order on a won deal
        from_stage = _stage(deal["stage"])
        at = e.occurred_at
        period = period_of(at)
        self._leave(deal, at, period, at.isoformat(), "advanced")
        self._check_template(deal, stages_entered(from_stage, Stage.NEGOTIATION), period)
        self._close(deal, Stage.WON, at)

    def _first_touch_overdue(self, e: Any) -> None:
        deal = self._deal(e)
        self._stop_waiting(deal)
        deal["assignment"]["overdue"] = True
        self._follow(deal["assignment"], "overdue")
        self.changed_deals[deal["deal_id"]] = deal

    # Stays, assignments and the documents they count in

    def _deal(self, e: Any) -> Document:
        return self.deals[self.deal_ids[e.originator_id.int]]

    def _own(self, deal: Document, rep: str, role: str) -> None:
        deal["owner"], deal["role"] = rep, role
        rep_doc = self.reps.get(rep)
        deal["team"] = "-" if rep_doc is None else rep_doc.get("team", "-")

    def _enter(self, deal: Document, stage: Stage, period: str, iso: str) -> None:
        """Enters `stage` at the instant written `iso`, in `period`."""
        deal["seq"] += 1
        deal["stage"] = stage.value
        stay = {
            "deal_id": deal["deal_id"],
            "seq": deal["seq"],
            "stage": stage.value,
            "entered_at": iso,
            "period": period,
            "owners": [[iso, deal["owner"], deal["team"]]],
            "ended_at": None,
            "exit": None,
        }
        deal["stay"] = stay
        self._changed_stay(stay)
        for cell in self._cells(period, stage.value, deal["owner"], deal["team"]):
            cell["entered"] += 1

    def _leave(self, deal: Document, at: datetime, period: str, iso: str, exit: str) -> None:
        stay = deal["stay"]
        stay["ended_at"], stay["exit"] = iso, exit
        self._changed_stay(stay)
        deal["stay"] = None
        _, rep, team = stay["owners"][0]
        for cohort in self._cells(stay["period"], stay["stage"], rep, team):
            cohort[exit] += 1
        seconds = int((at - datetime.fromisoformat(stay["entered_at"])).total_seconds())
        for ended in self._cells(period, stay["stage"], deal["owner"], deal["team"]):
            ended["stay_seconds"].append(seconds)

    def _close(self, deal: Document, stage: Stage, at: datetime) -> None:
        deal["stage"] = stage.value
        self._stop_waiting(deal, ended_at=at)
        self.changed_deals[deal["deal_id"]] = deal

    def _assign(self, deal: Document, at: datetime, period: str, iso: str, due_at: datetime) -> None:
        self._stop_waiting(deal, ended_at=at)
        due_iso = due_at.isoformat()
        assignment = {
            "period": period,
            "rep": deal["owner"],
            "team": deal["team"],
            "assigned_at": iso,
            "due_at": due_iso,
            "touch": None,
            "overdue": False,
            "waiting": True,
        }
        deal["assignment"] = assignment
        self._follow(assignment, "assigned")
        self._follow(assignment, "untouched")
        due = {"deal_id": deal["deal_id"], "rep": deal["owner"], "due_at": due_iso}
        self.changes.put("due", deal["deal_id"], due, part="open", sort=instant_key(due_at))
        self.changed_deals[deal["deal_id"]] = deal

    def _stop_waiting(self, deal: Document, ended_at: datetime | None = None) -> None:
        """No first touch is awaited any more: touched, overdue recorded, or the assignment ended
        (reassigned, deal closed); ended before its deadline, it is withdrawn, not missed."""
        assignment = deal.get("assignment")
        if assignment is None or not assignment["waiting"]:
            return
        assignment["waiting"] = False
        self.changes.delete("due", deal["deal_id"])
        if ended_at is not None and ended_at < datetime.fromisoformat(assignment["due_at"]):
            assignment["touch"] = "withdrawn"
            self._follow(assignment, "untouched", -1)
            self._follow(assignment, "withdrawn")

    def _check_template(self, deal: Document, passed: tuple[Stage, ...], period: str) -> None:
        """Did the deal have the activities its owner's role template asks for at each stage passed?"""
        quality = self._counted("quality", period, "rep", deal["owner"])
        for stage in passed:
            for requirement in self.policy.requirements(stage, deal["role"]):
                for kind, required in requirement.activities.items():
                    row = quality["template"].setdefault(
                        f"{stage.value}:{kind.value}",
                        {"stage": stage.value, "kind": kind.value, "deals": 0, "met": 0},
                    )
                    row["required"] = required
                    row["deals"] += 1
                    row["met"] += int(deal["activities"].get(kind.value, 0) >= required)

    def _cells(self, period: str, stage: str, rep: str, team: str) -> tuple[Document, Document]:
        return (
            self._counted("cell", period, "rep", rep, stage),
            self._counted("cell", period, "team", team, stage),
        )

    def _follow(self, assignment: Document, field: str, step: int = 1) -> None:
        period = assignment["period"]
        self._counted("follow", period, "rep", assignment["rep"])[field] += step
        self._counted("follow", period, "team", assignment["team"])[field] += step

    def _counted(self, kind: str, period: str, by: str, group: str, stage: str = "") -> Document:
        """The counted document, noted as changed: it is looked up only to be counted on."""
        key = (kind, period, by, group, stage)
        doc = self.counted.get(key)
        if doc is None:
            doc = self.counted[key] = new_doc(kind, period, by, group, stage)
        self.changed_counted[key] = doc
        return doc

    def _changed_stay(self, stay: Document) -> None:
        self.changed_stays[(stay["deal_id"], stay["seq"])] = stay
