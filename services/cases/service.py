"""The cases service: RPC entrypoints and subscriptions only; the work is in `app.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.exceptions import UnknownService

from contracts.errors import NotAllowed, NotFound, Unavailable
from services.cases import activity_schemas as activities
from services.cases import query_schemas as reads
from services.cases import schemas
from services.cases.access import CASE_WRITERS, HISTORY_READERS
from services.cases.app import (
    ARCHIVE_EVENTS_ACTED_ON,
    SUPERVISION_EVENTS_ACTED_ON,
    CasesApplication,
)
from services.runtime.entrypoints import rpc
from services.runtime.persistence import Cursor
from services.runtime.proxies import AnsweringProxy
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.subscription import subscribe

SUPERVISOR = ("supervisor",)
# How long a read of an archived record waits for the archive's grant (9.4d): within the
# gateway's own deadline, so the caller hears "unavailable" rather than nothing.
ARCHIVE_ANSWER_SECONDS = 10
GROUP_READERS = (*CASE_WRITERS, "school_admin")
CLASS_READERS = (*CASE_WRITERS, "school_admin", "auditor")


class CasesService(PublishingService):
    name = "cases"
    app = ApplicationDependency(CasesApplication)
    archive = AnsweringProxy("archive", lambda: ARCHIVE_ANSWER_SECONDS)

    # Subscriptions.

    @subscribe("supervision", acts_on=SUPERVISION_EVENTS_ACTED_ON)
    def on_supervision_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.learn_from_supervision(envelope, cursor)

    @subscribe("archive", acts_on=ARCHIVE_EVENTS_ACTED_ON)
    def on_archive_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.apply_disposal(envelope, cursor)

    # The client register (9.2a).

    @rpc
    @command(schemas.RegisterClient, CASE_WRITERS, reads.ClientAnswer)
    def register_client(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"client_id": self.app.register_client(**command)}

    @rpc
    @command(schemas.AddGuardian, CASE_WRITERS, reads.ClientAnswer)
    def add_guardian(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.add_guardian(**command)
        return {"client_id": command["client_id"]}

    @rpc
    @command(schemas.AddRelatedParty, CASE_WRITERS, reads.ClientAnswer)
    def add_related_party(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.add_related_party(**command)
        return {"client_id": command["client_id"]}

    @rpc
    @query(reads.ReadClient, CASE_WRITERS, reads.ClientRecord)
    def get_client(self, query: dict[str, Any]) -> dict[str, Any]:
        """Once all a client's cases are closed, their record is read under an archive grant on
        the latest one, which the archive logs (9.4d)."""
        archived_case_id = self.app.archived_case_of_client(query["client_id"])
        if archived_case_id is not None:
            self._authorize_read(archived_case_id, "read client record")
        return self.app.get_client(query["client_id"])

    @rpc
    @query(reads.ListClients, CASE_WRITERS, reads.ClientsPage)
    def list_clients(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_clients(**query)

    # The case process (8.3).

    @rpc
    @command(schemas.OpenCase, CASE_WRITERS, reads.CaseAnswer)
    def open_case(self, command: dict[str, Any]) -> dict[str, Any]:
        if command["letter_id"] is not None:
            command["letter_id"] = str(command["letter_id"])
        return {"case_id": self.app.open_case(**command)}

    @rpc
    @command(schemas.RecordIntake, CASE_WRITERS, reads.CaseAnswer)
    def record_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_intake)

    @rpc
    @command(schemas.AcceptIntake, CASE_WRITERS, reads.CaseAnswer)
    def accept_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.accept_intake)

    @rpc
    @command(schemas.DeclineIntake, CASE_WRITERS, reads.CaseAnswer)
    def decline_intake(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.decline_intake, "referral_id")

    @rpc
    @command(schemas.RecordConsent, CASE_WRITERS, reads.CaseAnswer)
    def record_consent(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_consent)

    @rpc
    @command(schemas.WithdrawConsent, CASE_WRITERS, reads.CaseAnswer)
    def withdraw_consent(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.withdraw_consent)

    @rpc
    @command(schemas.RecordAssessment, CASE_WRITERS, reads.CaseAnswer)
    def record_assessment(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_assessment, "assessment_number")

    @rpc
    @command(schemas.AdoptPlan, CASE_WRITERS, reads.CaseAnswer)
    def adopt_plan(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.adopt_plan, "plan_version")

    @rpc
    @command(schemas.RevisePlan, CASE_WRITERS, reads.CaseAnswer)
    def revise_plan(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.revise_plan, "plan_version")

    @rpc
    @command(schemas.LogIntervention, CASE_WRITERS, reads.CaseAnswer)
    def log_intervention(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.log_intervention, "intervention_id")

    @rpc
    @command(schemas.RequestResource, CASE_WRITERS, reads.CaseAnswer)
    def request_resource(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.request_resource, "request_id")

    @rpc
    @command(schemas.MakeReferral, CASE_WRITERS, reads.CaseAnswer)
    def make_referral(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.make_referral, "referral_id")

    @rpc
    @command(schemas.RecordEvaluation, CASE_WRITERS, reads.CaseAnswer)
    def record_evaluation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_evaluation)

    @rpc
    @command(schemas.CloseCase, CASE_WRITERS, reads.CaseAnswer)
    def close_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.close_case, "follow_up_id")

    @rpc
    @command(schemas.ScheduleFollowUp, CASE_WRITERS, reads.CaseAnswer)
    def schedule_follow_up(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.schedule_follow_up, "follow_up_id")

    @rpc
    @command(schemas.RecordFollowUp, CASE_WRITERS, reads.CaseAnswer)
    def record_follow_up(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_follow_up)

    @rpc
    @command(schemas.ReopenCase, CASE_WRITERS, reads.CaseAnswer)
    def reopen_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.reopen_case)

    @rpc
    @command(schemas.ReassignCase, SUPERVISOR, reads.CaseAnswer)
    def reassign_case(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.reassign_case)

    # The risk register (9.6a, 4.1).

    @rpc
    @command(schemas.RaiseRisk, CASE_WRITERS, reads.CaseAnswer)
    def raise_risk(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.raise_risk, "risk_id")

    @rpc
    @command(schemas.ChangeRiskLevel, CASE_WRITERS, reads.CaseAnswer)
    def change_risk_level(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.change_risk_level)

    @rpc
    @command(schemas.ResolveRisk, CASE_WRITERS, reads.CaseAnswer)
    def resolve_risk(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.resolve_risk)

    @rpc
    @command(schemas.RecordDisclosure, CASE_WRITERS, reads.CaseAnswer)
    def record_disclosure(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_case(command, self.app.record_disclosure, "disclosure_id")

    # Reads of cases.

    @rpc
    @query(reads.ReadCase, HISTORY_READERS, reads.CaseRecord)
    def get_case(self, query: dict[str, Any]) -> dict[str, Any]:
        """A closed case (or a reader other than its worker and the supervisors) is read under
        an archive grant, which the archive logs (9.4d)."""
        case_id = str(query["case_id"])
        grant_id = None
        if self.app.case_read_needs_grant(case_id):
            grant_id = self._authorize_read(case_id, query["purpose"] or "read case record")
        return self.app.get_case(case_id, grant_id)

    @rpc
    @query(reads.CaseTimeline, HISTORY_READERS, reads.Timeline)
    def get_case_timeline(self, query: dict[str, Any]) -> dict[str, Any]:
        case_id = str(query["case_id"])
        return {"case_id": case_id, "steps": self.app.get_case_timeline(case_id)}

    @rpc
    @query(reads.ListCaseload, HISTORY_READERS, reads.CaseloadPage)
    def list_caseload(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_caseload(**query)

    @rpc
    @query(reads.CountByStage, HISTORY_READERS, reads.StageCounts)
    def count_open_cases_by_stage(self, query: dict[str, Any]) -> dict[str, int]:
        return self.app.count_open_cases_by_stage()

    @rpc
    @query(reads.ListOverdue, HISTORY_READERS, reads.OverduePage)
    def list_overdue(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_overdue(**query)

    @rpc
    @query(reads.ListFollowUpsDue, HISTORY_READERS, reads.FollowUpsDuePage)
    def list_follow_ups_due(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_follow_ups_due(**query)

    # Group work (8.2.1.3).

    @rpc
    @command(activities.FormGroup, CASE_WRITERS, reads.GroupAnswer)
    def form_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"group_id": self.app.form_group(**command)}

    @rpc
    @command(activities.AddGroupMember, CASE_WRITERS, reads.GroupAnswer)
    def add_group_member(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.add_group_member)

    @rpc
    @command(activities.HoldGroupSession, CASE_WRITERS, reads.GroupAnswer)
    def hold_group_session(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.hold_group_session, "session_number")

    @rpc
    @command(activities.EvaluateGroup, CASE_WRITERS, reads.GroupAnswer)
    def evaluate_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.evaluate_group)

    @rpc
    @command(activities.CloseGroup, CASE_WRITERS, reads.GroupAnswer)
    def close_group(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._on_group(command, self.app.close_group)

    @rpc
    @query(reads.ReadGroup, CASE_WRITERS, reads.GroupRecord)
    def get_group(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_group(str(query["group_id"]))

    @rpc
    @query(reads.ListGroups, GROUP_READERS, reads.GroupsPage)
    def list_groups(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_groups(**query)

    # The mailbox (8.2.2) and classes (8.2.3).

    @rpc
    @command(activities.ReceiveLetter, CASE_WRITERS, reads.LetterAnswer)
    def receive_letter(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"letter_id": self.app.receive_letter(**command)}

    @rpc
    @command(activities.AnswerLetter, CASE_WRITERS, reads.LetterAnswer)
    def answer_letter(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.answer_letter(str(command.pop("letter_id")), **command)

    @rpc
    @query(reads.ReadLetter, CASE_WRITERS, reads.LetterRecord)
    def get_letter(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_letter(str(query["letter_id"]))

    @rpc
    @query(reads.ListLetters, CASE_WRITERS, reads.LettersPage)
    def list_letters(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_letters(**query)

    @rpc
    @command(activities.HoldClass, CASE_WRITERS, reads.ClassAnswer)
    def hold_class(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"class_id": self.app.hold_class(**command)}

    @rpc
    @query(reads.ReadClass, CLASS_READERS, reads.ClassRecord)
    def get_class(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_class(str(query["class_id"]))

    @rpc
    @query(reads.ListClasses, GROUP_READERS, reads.ClassesPage)
    def list_classes(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_classes(**query)

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
