"""The cases service: RPC entrypoints and subscriptions only; the work is in `app.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from contracts.errors import NotAllowed, NotFound, Unavailable
from services.cases import activity_schemas, schemas
from services.cases.app import CasesApplication
from services.cases.publish import PUBLICATIONS
from services.runtime.entrypoints import rpc
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, load, query
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
        self.app.learn_from_supervision(envelope, cursor)

    @subscribe("archive")
    def on_archive_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.apply_disposal(envelope, cursor)

    # Client register.

    @rpc
    @command(schemas.RegisterClient)
    def register_client(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"client_id": self.app.register_client(**command)}

    @rpc
    @command(schemas.AddGuardian)
    def add_guardian(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.add_guardian(**command)
        return {"client_id": command["client_id"]}

    @rpc
    @command(schemas.AddRelatedParty)
    def add_related_party(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.add_related_party(**command)
        return {"client_id": command["client_id"]}

    @rpc
    def get_client(self, client_id: str) -> dict[str, Any]:
        """A client's record; once all their cases are closed it is read under an archive grant
        on the latest one, which the archive logs (9.4d)."""
        archived_case_id = self.app.archived_case_of_client(client_id)
        if archived_case_id is not None:
            self._authorize_read(archived_case_id, "read client record")
        return self.app.get_client(client_id)

    # Case lifecycle.

    @rpc
    @command(schemas.OpenCase)
    def open_case(self, command: dict[str, Any]) -> dict[str, Any]:
        if command["letter_id"] is not None:
            command["letter_id"] = str(command["letter_id"])
        return {"case_id": self.app.open_case(**command)}

    @rpc
    @command(schemas.RecordIntake)
    def record_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_intake)

    @rpc
    @command(schemas.AcceptIntake)
    def accept_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.accept_intake)

    @rpc
    @command(schemas.DeclineIntake)
    def decline_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.decline_intake, "referral_id")

    @rpc
    @command(schemas.RecordConsent)
    def record_consent(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_consent)

    @rpc
    @command(schemas.WithdrawConsent)
    def withdraw_consent(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.withdraw_consent)

    @rpc
    @command(schemas.RecordAssessment)
    def record_assessment(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_assessment, "assessment_number")

    @rpc
    @command(schemas.AdoptPlan)
    def adopt_plan(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.adopt_plan, "plan_version")

    @rpc
    @command(schemas.RevisePlan)
    def revise_plan(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.revise_plan, "plan_version")

    @rpc
    @command(schemas.LogIntervention)
    def log_intervention(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.log_intervention, "intervention_id")

    @rpc
    @command(schemas.RequestResource)
    def request_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.request_resource, "request_id")

    @rpc
    @command(schemas.MakeReferral)
    def make_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.make_referral, "referral_id")

    @rpc
    @command(schemas.RecordEvaluation)
    def record_evaluation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_evaluation)

    @rpc
    @command(schemas.CloseCase)
    def close_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.close_case, "follow_up_id")

    @rpc
    @command(schemas.ScheduleFollowUp)
    def schedule_follow_up(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.schedule_follow_up, "follow_up_id")

    @rpc
    @command(schemas.RecordFollowUp)
    def record_follow_up(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_follow_up)

    @rpc
    @command(schemas.ReopenCase)
    def reopen_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.reopen_case)

    @rpc
    @command(schemas.ReassignCase)
    def reassign_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.reassign_case)

    # Risk register.

    @rpc
    @command(schemas.RaiseRisk)
    def raise_risk(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.raise_risk, "risk_id")

    @rpc
    @command(schemas.ChangeRiskLevel)
    def change_risk_level(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.change_risk_level)

    @rpc
    @command(schemas.ResolveRisk)
    def resolve_risk(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.resolve_risk)

    @rpc
    @command(schemas.RecordDisclosure)
    def record_disclosure(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_disclosure, "disclosure_id")

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
    @query(schemas.ListCaseload)
    def list_caseload(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_caseload(**command)

    @rpc
    def list_open_cases_by_stage(self) -> dict[str, list[dict[str, Any]]]:
        return self.app.list_open_cases_by_stage()

    @rpc
    def list_overdue(self) -> dict[str, list[dict[str, Any]]]:
        return self.app.list_overdue()

    # Group work.

    @rpc
    @command(activity_schemas.FormGroup)
    def form_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"group_id": self.app.form_group(**command)}

    @rpc
    @command(activity_schemas.AddGroupMember)
    def add_group_member(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.add_group_member)

    @rpc
    @command(activity_schemas.HoldGroupSession)
    def hold_group_session(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.hold_group_session, "session_number")

    @rpc
    @command(activity_schemas.EvaluateGroup)
    def evaluate_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.evaluate_group)

    @rpc
    @command(activity_schemas.CloseGroup)
    def close_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.close_group)

    @rpc
    def get_group(self, group_id: str) -> dict[str, Any]:
        return self.app.get_group(group_id)

    # Mailbox and classes.

    @rpc
    @command(activity_schemas.ReceiveLetter)
    def receive_letter(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"letter_id": self.app.receive_letter(**command)}

    @rpc
    @command(activity_schemas.AnswerLetter)
    def answer_letter(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.answer_letter(str(command.pop("letter_id")), **command)

    @rpc
    def get_letter(self, letter_id: str) -> dict[str, Any]:
        return self.app.get_letter(letter_id)

    @rpc
    @command(activity_schemas.HoldClass)
    def hold_class(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"class_id": self.app.hold_class(**command)}

    @rpc
    def get_class(self, class_id: str) -> dict[str, Any]:
        return self.app.get_class(class_id)

    # Helpers.

    def _on_case(self, command: dict[str, Any], run: Callable[..., Any],
                 result_key: str | None = None) -> dict[str, Any]:
        case_id = str(command.pop("case_id"))
        result = run(case_id, **command)
        return {"case_id": case_id, **({result_key: result} if result_key else {})}

    def _on_group(self, command: dict[str, Any], run: Callable[..., Any],
                  result_key: str | None = None) -> dict[str, Any]:
        group_id = str(command.pop("group_id"))
        result = run(group_id, **command)
        return {"group_id": group_id, **({result_key: result} if result_key else {})}

    def _authorize_read(self, case_id: str, purpose: str) -> str:
        try:
            grant: dict[str, Any] = self.archive.authorize_read(
                {"source": "cases", "aggregate_id": case_id, "purpose": purpose}
            )
        except UnknownService:
            raise Unavailable("The archive is not running: archived case records cannot be "
                              "read until it is.") from None
        except NotFound:
            # The archive has not filed this record yet, so no grant on it can exist: the
            # answer is the same refusal whenever the question is asked (fail closed).
            raise NotAllowed("Reading this record's personal content needs an archive grant, "
                             "and none exists for it yet (9.4d).", code="grant_required") from None
        return str(grant["grant_id"])
