"""The supervision service: RPC entrypoints, the cases subscription and the deadline timer
only; the work is in the application's desks."""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.runtime.context import SYSTEM, acting_as
from services.runtime.entrypoints import rpc
from services.runtime.metrics import EscalationGauges, Metrics
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.subscription import subscribe
from services.supervision import schemas
from services.supervision.app import SupervisionApplication
from services.supervision.settings import timer_seconds


class SupervisionService(PublishingService):
    name = "supervision"
    app = ApplicationDependency(SupervisionApplication)
    metrics = Metrics(EscalationGauges)

    @subscribe("cases")
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.handle_cases_event(envelope, cursor)

    @timer(interval=timer_seconds())
    def check_deadlines(self) -> None:
        # 9.6b escalations climb and 9.5c findings are raised when the clock passes a deadline.
        with acting_as(SYSTEM):
            self.app.climb_overdue()
            self.app.raise_overdue_findings()

    # Schools (6.1, 8.1)

    @rpc
    @command(schemas.RegisterSchool)
    def register_school(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"school_id": self.app.register_school(**command)}

    @rpc
    @command(schemas.RecordFacilities)
    def record_facilities(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_facilities(**command)
        return {"school_id": command["school_id"]}

    @rpc
    @query(schemas.GetSchool)
    def get_school(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_school(**command)

    # Social workers (6.2.1) and supervisors (6.2.2)

    @rpc
    @command(schemas.RegisterSocialWorker)
    def register_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"social_worker_id": self.app.register_social_worker(**command)}

    @rpc
    @command(schemas.RecordQualification)
    def record_qualification(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_qualification(**command)
        return self.app.worker_eligibility(command["social_worker_id"])

    @rpc
    @command(schemas.AssignSocialWorker)
    def assign_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.assign_social_worker(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    @command(schemas.EndAssignment)
    def end_assignment(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.end_assignment(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    @command(schemas.DeactivateSocialWorker)
    def deactivate_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.deactivate_social_worker(**command)
        return self.app.worker_eligibility(command["social_worker_id"])

    @rpc
    @query(schemas.WorkerEligibility)
    def worker_eligibility(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.worker_eligibility(**command)

    @rpc
    @query(schemas.GetSocialWorker)
    def get_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_social_worker(**command)

    @rpc
    @query(schemas.ListSocialWorkers)
    def list_social_workers(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_social_workers(**command)

    @rpc
    @command(schemas.RegisterSupervisor)
    def register_supervisor(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"supervisor_id": self.app.register_supervisor(**command)}

    @rpc
    @command(schemas.AssignSupervisor)
    def assign_supervisor(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.assign_supervisor(**command)
        return {"social_worker_id": command["social_worker_id"],
                "supervisor_id": command["supervisor_id"]}

    @rpc
    @query(schemas.ListSupervisees)
    def list_supervisees(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_supervisees(**command)

    # Training (9.1a, 9.1b) and supervision sessions (6.2.2.2, 9.1c)

    @rpc
    @command(schemas.RecordTraining)
    def record_training(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"training_id": self.app.record_training(**command)}

    @rpc
    @query(schemas.TrainingReport)
    def training_report(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.training_report(**command)

    @rpc
    @command(schemas.RecordSupervisionSession)
    def record_supervision_session(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"session_id": self.app.record_supervision_session(**command)}

    @rpc
    @query(schemas.SupervisionReport)
    def supervision_report(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.supervision_report(**command)

    # Risk escalations (9.6b, 4.1)

    @rpc
    @command(schemas.AcknowledgeEscalation)
    def acknowledge_escalation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.acknowledge_escalation(str(command["escalation_id"]))

    @rpc
    @command(schemas.RecordEscalationAction)
    def record_escalation_action(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_escalation_action(str(command["escalation_id"]), command["action"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    @command(schemas.ResolveEscalation)
    def resolve_escalation(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.resolve_escalation(str(command["escalation_id"]), command["resolution"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    @query(schemas.GetEscalation)
    def get_escalation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_escalation(str(command["escalation_id"]))

    @rpc
    @query(schemas.EscalationTrail)
    def escalation_trail(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.escalation_trail(str(command["escalation_id"]))

    @rpc
    @query(schemas.ListEscalations)
    def list_escalations(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_escalations(**command)

    # Quality findings (9.5c) and improvement actions (10.3)

    @rpc
    @query(schemas.ListFindings)
    def list_findings(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_findings(**command)

    @rpc
    @command(schemas.OpenImprovementAction)
    def open_improvement_action(self, command: dict[str, Any]) -> dict[str, Any]:
        command["finding_id"] = str(command["finding_id"])
        return {"action_id": self.app.open_improvement_action(**command)}

    @rpc
    @command(schemas.CompleteImprovementAction)
    def complete_improvement_action(self, command: dict[str, Any]) -> dict[str, Any]:
        command["action_id"] = str(command["action_id"])
        self.app.complete_improvement_action(**command)
        return {"action_id": command["action_id"]}

    @rpc
    @query(schemas.ListImprovementActions)
    def list_improvement_actions(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_improvement_actions(**command)

    # Complaints and feedback (9.2c, 10.1.2), evaluations (10.2.1, 10.2.3)

    @rpc
    @command(schemas.ReceiveComplaint)
    def receive_complaint(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"complaint_id": self.app.receive_complaint(**command)}

    @rpc
    @command(schemas.RecordComplaintStep)
    def record_complaint_step(self, command: dict[str, Any]) -> dict[str, Any]:
        command["complaint_id"] = str(command["complaint_id"])
        self.app.record_complaint_step(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    @command(schemas.AnswerComplaint)
    def answer_complaint(self, command: dict[str, Any]) -> dict[str, Any]:
        command["complaint_id"] = str(command["complaint_id"])
        self.app.answer_complaint(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    @query(schemas.GetComplaint)
    def get_complaint(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_complaint(str(command["complaint_id"]))

    @rpc
    @query(schemas.ListComplaints)
    def list_complaints(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_complaints(**command)

    @rpc
    @command(schemas.RecordSatisfactionSurvey)
    def record_satisfaction_survey(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"survey_id": self.app.record_satisfaction_survey(**command)}

    @rpc
    @command(schemas.RecordServiceEvaluation)
    def record_service_evaluation(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"evaluation_id": self.app.record_service_evaluation(**command)}

    @rpc
    @query(schemas.EvaluationSummary)
    def evaluation_summary(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.evaluation_summary(**command)

    # Compliance (the whole standard, per school and period)

    @rpc
    @query(schemas.ComplianceReport)
    def compliance_report(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.compliance_report(**command)

    @rpc
    @query(schemas.ComplianceReportCsv)
    def compliance_report_csv(self, command: dict[str, Any]) -> str:
        return self.app.compliance_report_csv(**command)
