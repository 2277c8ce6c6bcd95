from __future__ import annotations

from commands.context import Context
from commands.models import TriggerServiceImprovement
from commands.unit_of_work import UnitOfWork
from domain.service_alerts import ServiceAlerts


def trigger_service_improvement(cmd: TriggerServiceImprovement, uow: UnitOfWork, ctx: Context) -> None:
    alerts = uow.find(ServiceAlerts, cmd.grouping, cmd.group)
    if alerts is None:
        alerts = uow.add(ServiceAlerts(cmd.grouping, cmd.group))
    alerts.trigger_improvement(cmd.rule, list(cmd.windows), list(cmd.values), cmd.threshold, cmd.occurred_at)
