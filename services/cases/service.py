"""The cases service: RPC entrypoints and subscriptions only; the work is in `app.py`."""

from __future__ import annotations

from typing import Any

from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy, rpc

from contracts.errors import Unavailable
from services.cases import schemas
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, load
from services.runtime.subscription import subscribe


def _with_id(data: Any, key: str) -> Any:
    """Simple gets take the id alone or an object holding it."""
    return {key: data} if isinstance(data, str) else data


class CasesService(PublishingService):
    name = "cases"
    publications = PUBLICATIONS
    app = ApplicationDependency(CasesApplication, PUBLICATIONS)
    archive = RpcProxy("archive")

    # Subscriptions.

    @subscribe("supervision")
    def on_supervision_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.learn_eligibility(envelope, cursor)

    @subscribe("archive")
    def on_archive_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.apply_disposal(envelope, cursor)

    # Client register.

    @rpc
    def register_client(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"client_id": self.app.register_client(**load(schemas.RegisterClient, data))}

    @rpc
    def add_guardian(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AddGuardian, data)
        self.app.add_guardian(**command)
        return {"client_id": command["client_id"]}

    @rpc
    def add_related_party(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AddRelatedParty, data)
        self.app.add_related_party(**command)
        return {"client_id": command["client_id"]}

    @rpc
    def get_client(self, client_id: str) -> dict[str, Any]:
        return self.app.get_client(client_id)

    # Case lifecycle.

    @rpc
    def open_case(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.OpenCase, data)
        if command["letter_id"] is not None:
            command["letter_id"] = str(command["letter_id"])
        return {"case_id": self.app.open_case(**command)}

    @rpc
    def record_intake(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordIntake, data, self.app.record_intake)

    @rpc
    def accept_intake(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.AcceptIntake, data, self.app.accept_intake)

    @rpc
    def decline_intake(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.DeclineIntake, data, self.app.decline_intake, "referral_id")

    @rpc
    def record_consent(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordConsent, data, self.app.record_consent)

    @rpc
    def withdraw_consent(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.WithdrawConsent, data, self.app.withdraw_consent)

    @rpc
    def record_assessment(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordAssessment, data, self.app.record_assessment,
                             "assessment_number")

    @rpc
    def adopt_plan(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.AdoptPlan, data, self.app.adopt_plan, "plan_version")

    @rpc
    def revise_plan(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RevisePlan, data, self.app.revise_plan, "plan_version")

    @rpc
    def log_intervention(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.LogIntervention, data, self.app.log_intervention,
                             "intervention_id")

    @rpc
    def request_resource(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RequestResource, data, self.app.request_resource,
                             "request_id")

    @rpc
    def make_referral(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.MakeReferral, data, self.app.make_referral, "referral_id")

    @rpc
    def record_evaluation(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordEvaluation, data, self.app.record_evaluation)

    @rpc
    def close_case(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.CloseCase, data, self.app.close_case, "follow_up_id")

    @rpc
    def schedule_follow_up(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.ScheduleFollowUp, data, self.app.schedule_follow_up,
                             "follow_up_id")

    @rpc
    def record_follow_up(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordFollowUp, data, self.app.record_follow_up)

    @rpc
    def reopen_case(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.ReopenCase, data, self.app.reopen_case)

    @rpc
    def reassign_case(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.ReassignCase, data, self.app.reassign_case)

    # Risk register.

    @rpc
    def raise_risk(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RaiseRisk, data, self.app.raise_risk, "risk_id")

    @rpc
    def change_risk_level(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.ChangeRiskLevel, data, self.app.change_risk_level)

    @rpc
    def resolve_risk(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.ResolveRisk, data, self.app.resolve_risk)

    @rpc
    def record_disclosure(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(schemas.RecordDisclosure, data, self.app.record_disclosure,
                             "disclosure_id")

    # Case reads.

    @rpc
    def get_case(self, data: str | dict[str, Any]) -> dict[str, Any]:
        """A case with its personal content; a closed case (or a reader other than its worker
        and the supervisors) is read under an archive grant, which the archive logs (9.4d)."""
        command = load(schemas.ReadCase, _with_id(data, "case_id"))
        case_id = str(command["case_id"])
        grant_id = None
        if self.app.case_read_needs_grant(case_id):
            grant_id = self._authorize_read(case_id, command["purpose"] or "read case record")
        return self.app.get_case(case_id, grant_id)

    @rpc
    def get_case_timeline(self, case_id: str) -> list[dict[str, Any]]:
        return self.app.get_case_timeline(case_id)

    @rpc
    def list_caseload(self, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.app.list_caseload(**load(schemas.ListCaseload, data or {}))

    @rpc
    def list_open_cases_by_stage(self) -> dict[str, list[dict[str, Any]]]:
        return self.app.list_open_cases_by_stage()

    @rpc
    def list_overdue(self) -> dict[str, list[dict[str, Any]]]:
        return self.app.list_overdue()

    # Group work.

    @rpc
    def form_group(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"group_id": self.app.form_group(**load(schemas.FormGroup, data))}

    @rpc
    def add_group_member(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(schemas.AddGroupMember, data, self.app.add_group_member)

    @rpc
    def hold_group_session(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(schemas.HoldGroupSession, data, self.app.hold_group_session,
                              "session_number")

    @rpc
    def evaluate_group(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(schemas.EvaluateGroup, data, self.app.evaluate_group)

    @rpc
    def close_group(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(schemas.CloseGroup, data, self.app.close_group)

    @rpc
    def get_group(self, group_id: str) -> dict[str, Any]:
        return self.app.get_group(group_id)

    # Mailbox and classes.

    @rpc
    def receive_letter(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"letter_id": self.app.receive_letter(**load(schemas.ReceiveLetter, data))}

    @rpc
    def answer_letter(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AnswerLetter, data)
        return self.app.answer_letter(str(command.pop("letter_id")), **command)

    @rpc
    def get_letter(self, letter_id: str) -> dict[str, Any]:
        return self.app.get_letter(letter_id)

    @rpc
    def hold_class(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"class_id": self.app.hold_class(**load(schemas.HoldClass, data))}

    @rpc
    def get_class(self, class_id: str) -> dict[str, Any]:
        return self.app.get_class(class_id)

    # Helpers.

    def _on_case(self, schema: type, data: dict[str, Any], command: Any,
                 result_key: str | None = None) -> dict[str, Any]:
        loaded = load(schema, data)
        case_id = str(loaded.pop("case_id"))
        result = command(case_id, **loaded)
        return {"case_id": case_id, **({result_key: result} if result_key else {})}

    def _on_group(self, schema: type, data: dict[str, Any], command: Any,
                  result_key: str | None = None) -> dict[str, Any]:
        loaded = load(schema, data)
        group_id = str(loaded.pop("group_id"))
        result = command(group_id, **loaded)
        return {"group_id": group_id, **({result_key: result} if result_key else {})}

    def _authorize_read(self, case_id: str, purpose: str) -> str:
        try:
            grant: dict[str, Any] = self.archive.authorize_read(
                {"source": "cases", "aggregate_id": case_id, "purpose": purpose}
            )
        except UnknownService:
            raise Unavailable("The archive is not running: archived case records cannot be "
                              "read until it is.") from None
        return str(grant["grant_id"])
