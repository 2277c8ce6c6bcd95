"""Funnel health folded from deal events, by business time: per period, stage and owner (rep and team).

A stay is a deal's time in one stage. Its entry puts it in a cohort (the period it entered, the owner
then); the way it ends (advanced, regressed, lost) is counted on that cohort, and its length on the
period it ended in, under the owner then. Each assignment of a deal to a rep is followed until the
owner's first activity; the ones still waiting are indexed by deadline for the first-touch watcher.
"""

from __future__ import annotations

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


def key_of(kind: str, doc: Document) -> str:
    return counted_key(kind, doc["period"], doc["by"], doc["group"], doc.get("stage", ""))


def counted_key(kind: str, period: str, by: str, group: str, stage: str = "") -> str:
    return f"{period}|{by}:{group}|{stage}" if kind == "cell" else f"{period}|{by}:{group}"


# A stage's rank by its name, without building the enum member on every put.
_RANKS = {stage.value: stage.rank for stage in FUNNEL}


def _rank(stage: str) -> int:
    rank = _RANKS.get(stage)
    # Off the funnel (or no stage at all): fails as the enum always did.
    return Stage(stage).rank if rank is None else rank


def index_of(kind: str, doc: Document) -> tuple[str, str]:
    """Partition and sort key of a counted document: by period, then owner, then stage."""
    rank = f"|{_rank(doc['stage'])}" if kind == "cell" else ""
    return doc["period"], f"{doc['by']}:{doc['group']}{rank}"


class FunnelHealth:
    name = NAME
    topics = TOPICS
    state_kinds: tuple[str, ...] = ("rep", "deal", "policy", *COUNTED)

    def __init__(self) -> None:
        self.reps: dict[str, Document] = {}
        self.deals: dict[str, Document] = {}
        self.deal_ids: dict[Any, str] = {}
        self.counted: dict[tuple[str, str], Document] = {}
        self.policy = DEFAULT_GATE_POLICY
        self.changes = Changes()
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

    def apply(self, event: Any, position: int) -> None:
        handler = self.handlers.get(topic_of(event))
        if handler is not None:
            handler(event)

    def take_changes(self) -> list[DocChange]:
        return self.changes.take()

    def load(self, kind: str, key: str, doc: Document) -> None:
        if kind == "rep":
            self.reps[key] = doc
        elif kind == "deal":
            self.deals[key] = doc
            self.deal_ids[Deal.create_id(key)] = key
        elif kind == "policy":
            self.policy = GatePolicy.model_validate(doc)
        else:
            self.counted[(kind, key)] = doc

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
        self.deal_ids[e.originator_id] = e.deal_id
        self._own(deal, e.owner_rep_id, e.owner_role)
        self._enter(deal, Stage.LEAD, e.occurred_at)
        self._assign(deal, e.occurred_at, e.first_touch_due_at)
        self._save(deal)

    def _reassigned(self, e: Any) -> None:
        deal = self._deal(e)
        self._own(deal, e.owner_rep_id, e.owner_role)
        stay = deal["stay"]
        if stay is not None:
            stay["owners"].append([e.occurred_at.isoformat(), deal["owner"], deal["team"]])
            self._put_stay(stay)
        self._assign(deal, e.occurred_at, e.first_touch_due_at)
        self._save(deal)

    def _activity_logged(self, e: Any) -> None:
        deal = self._deal(e)
        kind = e.kind
        deal["activities"][kind] = deal["activities"].get(kind, 0) + 1
        quality = self._quality(period_of(e.occurred_at), e.rep_id)
        quality["activities"][kind] = quality["activities"].get(kind, 0) + 1
        if deal["deal_id"] not in quality["deals"]:
            quality["deals"] = sorted([*quality["deals"], deal["deal_id"]])
        assignment = deal["assignment"]
        if assignment["touch"] is None and e.rep_id == assignment["rep"]:
            self._stop_waiting(deal)
            # Overdue at the deadline itself, as the domain has it: a touch must come before it.
            in_sla = e.occurred_at < datetime.fromisoformat(assignment["due_at"])
            touch = assignment["touch"] = "in_sla" if in_sla else "late"
            self._follow(assignment, "untouched", -1)
            self._follow(assignment, touch)
        self._save(deal)

    def _stage_moved(self, e: Any) -> None:
        deal = self._deal(e)
        to_stage, from_stage = Stage(e.to_stage), Stage(deal["stage"])
        forward = to_stage.rank > from_stage.rank
        self._leave(deal, e.occurred_at, "advanced" if forward else "regressed")
        if forward:
            self._check_template(deal, stages_entered(from_stage, to_stage), e.occurred_at)
        self._enter(deal, to_stage, e.occurred_at)
        self._quality(period_of(e.occurred_at), e.rep_id)["moves"] += 1
        self._save(deal)

    def _move_blocked(self, e: Any) -> None:
        deal = self._deal(e)
        period = period_of(e.occurred_at)
        counted = [("cell", c) for c in self._cells(period, e.to_stage, deal["owner"], deal["team"])]
        for kind, doc in [*counted, ("quality", self._quality(period, e.rep_id))]:
            doc["blocked"] += 1
            for gap in e.missing:
                doc["missing"][gap["item"]] = doc["missing"].get(gap["item"], 0) + 1
            self._put(kind, doc)

    def _lost(self, e: Any) -> None:
        deal = self._deal(e)
        self._leave(deal, e.occurred_at, "lost")
        self._close(deal, Stage.LOST, e.occurred_at)

    def _won(self, e: Any) -> None:
        deal = self._deal(e)
        if deal["stage"] == Stage.WON:
            return  # a further order on a won deal
        from_stage = Stage(deal["stage"])
        self._leave(deal, e.occurred_at, "advanced")
        self._check_template(deal, stages_entered(from_stage, Stage.NEGOTIATION), e.occurred_at)
        self._close(deal, Stage.WON, e.occurred_at)

    def _first_touch_overdue(self, e: Any) -> None:
        deal = self._deal(e)
        self._stop_waiting(deal)
        deal["assignment"]["overdue"] = True
        self._follow(deal["assignment"], "overdue")
        self._save(deal)

    # Stays, assignments and the documents they count in

    def _deal(self, e: Any) -> Document:
        return self.deals[self.deal_ids[e.originator_id]]

    def _own(self, deal: Document, rep: str, role: str) -> None:
        deal["owner"], deal["role"] = rep, role
        deal["team"] = self.reps.get(rep, {}).get("team", "-")

    def _enter(self, deal: Document, stage: Stage, at: datetime) -> None:
        deal["seq"] += 1
        deal["stage"] = stage.value
        stay = {
            "deal_id": deal["deal_id"],
            "seq": deal["seq"],
            "stage": stage.value,
            "entered_at": at.isoformat(),
            "period": period_of(at),
            "owners": [[at.isoformat(), deal["owner"], deal["team"]]],
            "ended_at": None,
            "exit": None,
        }
        deal["stay"] = stay
        self._put_stay(stay)
        for cell in self._cells(stay["period"], stage.value, deal["owner"], deal["team"]):
            cell["entered"] += 1
            self._put("cell", cell)

    def _leave(self, deal: Document, at: datetime, exit: str) -> None:
        stay = deal["stay"]
        stay["ended_at"], stay["exit"] = at.isoformat(), exit
        self._put_stay(stay)
        deal["stay"] = None
        _, rep, team = stay["owners"][0]
        for cohort in self._cells(stay["period"], stay["stage"], rep, team):
            cohort[exit] += 1
            self._put("cell", cohort)
        seconds = int((at - datetime.fromisoformat(stay["entered_at"])).total_seconds())
        for ended in self._cells(period_of(at), stay["stage"], deal["owner"], deal["team"]):
            ended["stay_seconds"].append(seconds)
            self._put("cell", ended)

    def _close(self, deal: Document, stage: Stage, at: datetime) -> None:
        deal["stage"] = stage.value
        self._stop_waiting(deal, ended_at=at)
        self._save(deal)

    def _assign(self, deal: Document, at: datetime, due_at: datetime) -> None:
        self._stop_waiting(deal, ended_at=at)
        assignment = {
            "period": period_of(at),
            "rep": deal["owner"],
            "team": deal["team"],
            "assigned_at": at.isoformat(),
            "due_at": due_at.isoformat(),
            "touch": None,
            "overdue": False,
            "waiting": True,
        }
        deal["assignment"] = assignment
        self._follow(assignment, "assigned")
        self._follow(assignment, "untouched")
        due = {"deal_id": deal["deal_id"], "rep": deal["owner"], "due_at": due_at.isoformat()}
        self.changes.put("due", deal["deal_id"], due, part="open", sort=instant_key(due_at))

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

    def _check_template(self, deal: Document, passed: tuple[Stage, ...], at: datetime) -> None:
        """Did the deal have the activities its owner's role template asks for at each stage passed?"""
        quality = self._quality(period_of(at), deal["owner"])
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
        for by in ("rep", "team"):
            doc = self._counted("follow", assignment["period"], by, assignment[by])
            doc[field] += step
            self._put("follow", doc)

    def _quality(self, period: str, rep: str) -> Document:
        doc = self._counted("quality", period, "rep", rep)
        self._put("quality", doc)
        return doc

    def _counted(self, kind: str, period: str, by: str, group: str, stage: str = "") -> Document:
        # Looked up by key first: most events count on documents that already exist.
        key = (kind, counted_key(kind, period, by, group, stage))
        doc = self.counted.get(key)
        if doc is None:
            doc = self.counted[key] = new_doc(kind, period, by, group, stage)
        return doc

    def _put(self, kind: str, doc: Document) -> None:
        part, sort = index_of(kind, doc)
        self.changes.put(kind, key_of(kind, doc), doc, part=part, sort=sort)

    def _put_stay(self, stay: Document) -> None:
        # By stage, then the period the stay ended in (open ones last) and entry: "in the stage at the
        # end of P" reads only stays still open or ended after P.
        ended = period_of(datetime.fromisoformat(stay["ended_at"])) if stay["ended_at"] else OPEN
        sort = f"{ended}|{instant_key(datetime.fromisoformat(stay['entered_at']))}"
        key = f"{stay['deal_id']}|{stay['seq']:04d}"
        self.changes.put("stay", key, stay, part=stay["stage"], sort=sort)

    def _save(self, deal: Document) -> None:
        self.changes.put("deal", deal["deal_id"], deal)
