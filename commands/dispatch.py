from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands.context import Context
from commands.handlers import alerts, collaboration, deals, governance, orders, organisation
from commands.unit_of_work import UnitOfWork

Handler = Callable[[Any, UnitOfWork, Context], None]

HANDLERS: dict[str, Handler] = {
    "OnboardRep": organisation.onboard_rep,
    "SetTargets": organisation.set_targets,
    "RegisterCustomer": organisation.register_customer,
    "TagCustomer": organisation.tag_customer,
    "RecordNps": organisation.record_nps,
    "LogComplaint": organisation.log_complaint,
    "AddContact": organisation.add_contact,
    "UpdateContact": organisation.update_contact,
    "OpenDeal": deals.open_deal,
    "ReassignDeal": deals.reassign_deal,
    "LogActivity": deals.log_activity,
    "AttachDocument": deals.attach_document,
    "SubmitDemoReport": deals.submit_demo_report,
    "MoveStage": deals.move_stage,
    "SetCreditSplit": deals.set_credit_split,
    "LoseDeal": deals.lose_deal,
    "RecordFirstTouchOverdue": deals.record_first_touch_overdue,
    "BookOrder": orders.book_order,
    "CancelOrder": orders.cancel_order,
    "SubmitRequirement": collaboration.submit_requirement,
    "DecideRequirement": collaboration.decide_requirement,
    "SubmitContract": collaboration.submit_contract,
    "RecordSlaBreaches": collaboration.record_sla_breaches,
    "TriggerServiceImprovement": alerts.trigger_service_improvement,
    "PublishPlan": governance.publish_plan,
    "PublishGatePolicy": governance.publish_gate_policy,
    "ClosePeriod": governance.close_period,
    "ApplyRerun": governance.apply_rerun,
}
