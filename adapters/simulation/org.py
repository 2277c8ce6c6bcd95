"""The sales organisation: reps, their monthly targets, and who may own a deal."""

from __future__ import annotations

from adapters.simulation import texts
from adapters.simulation.records import KEY_ACCOUNT, Rep
from adapters.simulation.schedule import Command
from adapters.simulation.sim import Sim

# Mostly selling roles; presales support deals but own none and carry no quota.
_ROLES = (
    KEY_ACCOUNT,
    "smb",
    "channel",
    "smb",
    KEY_ACCOUNT,
    "channel",
    "presales",
    "smb",
    KEY_ACCOUNT,
    "channel",
)
_TEAMS = (("east", "CN-E"), ("south", "CN-S"), ("north", "CN-N"), ("west", "CN-W"))
_QUOTA = {KEY_ACCOUNT: 600_000, "smb": 150_000, "channel": 300_000}
REGIONS = ("CN-E", "CN-S", "CN-N", "CN-W", "CN-C")


class Org:
    def __init__(self, sim: Sim, count: int) -> None:
        if count < 1:
            raise ValueError("reps must be at least 1")
        rng = sim.rng
        self.reps: list[Rep] = []
        for index in range(count):
            role = _ROLES[index % len(_ROLES)]
            team, region = _TEAMS[index % len(_TEAMS)] if index < 4 else rng.choice(_TEAMS)
            if role == "channel" and rng.random() < 0.2:
                region = "CN-C"
            quota = int(_QUOTA.get(role, 0) * rng.choice((0.8, 1.0, 1.0, 1.2, 1.5)))
            rep_id = f"r-{index + 1:03d}"
            self.reps.append(Rep(rep_id, texts.person_name(rng), role, team, region, quota))
        self.selling = [rep for rep in self.reps if rep.quota]
        self.presales = [rep for rep in self.reps if rep.role == "presales"]
        self._by_region: dict[str, list[Rep]] = {}
        for rep in self.selling:
            self._by_region.setdefault(rep.region, []).append(rep)
        self._sim = sim

    def onboard(self, t: int) -> None:
        for rep in self.reps:
            self._sim.emit(
                t,
                {
                    "type": "OnboardRep",
                    "rep_id": rep.rep_id,
                    "name": rep.name,
                    "role": rep.role,
                    "team": rep.team,
                    "region": rep.region,
                    "occurred_at": self._sim.stamp(t),
                },
            )

    def set_targets(self, t: int, period: str) -> None:
        for rep in self.selling:
            command: Command = {
                "type": "SetTargets",
                "rep_id": rep.rep_id,
                "period": period,
                "quota": str(rep.quota),
                "margin_target": str(rep.quota // 4),
                "nps_target": "8",
                "target_incentive": str(rep.quota // 40),
            }
            self._sim.emit(t, command)

    def pick_owner(self, region: str) -> Rep:
        rng = self._sim.rng
        local = self._by_region.get(region)
        if local and rng.random() < 0.8:
            return rng.choice(local)
        return rng.choice(self.selling)

    def pick_other(self, exclude: set[str]) -> Rep | None:
        """Another selling rep, or None when the org has no one else."""
        rng = self._sim.rng
        for _ in range(8):
            rep = rng.choice(self.selling)
            if rep.rep_id not in exclude:
                return rep
        others = [rep for rep in self.selling if rep.rep_id not in exclude]
        return rng.choice(others) if others else None

    def supporter(self, owner: Rep) -> Rep:
        """Who runs a demo: a presales engineer when there is one, else the owner."""
        if self.presales and self._sim.rng.random() < 0.6:
            return self._sim.rng.choice(self.presales)
        return owner
