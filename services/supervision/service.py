"""The supervision service: RPC entrypoints, the cases subscription and the deadline timer
only; the work is in the application's desks."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer

from services.runtime.context import SYSTEM, acting_as
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, load
from services.runtime.subscription import subscribe
from services.supervision import schemas
from services.supervision.app import SupervisionApplication
from services.supervision.publish import PUBLICATIONS
from services.supervision.settings import timer_seconds


class SupervisionService(PublishingService):
    name = "supervision"
    publications = PUBLICATIONS
    app = ApplicationDependency(SupervisionApplication, PUBLICATIONS)

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
    def register_school(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"school_id": self.app.register_school(**load(schemas.RegisterSchool, data))}

    @rpc
    def record_facilities(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordFacilities, data)
        self.app.record_facilities(**command)
        return {"school_id": command["school_id"]}

    @rpc
    def get_school(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_school(**load(schemas.SchoolRef, data))

    # Social workers (6.2.1) and supervisors (6.2.2)

    @rpc
    def register_social_worker(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RegisterSocialWorker, data)
        return {"social_worker_id": self.app.register_social_worker(**command)}

    @rpc
    def record_qualification(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordQualification, data)
        self.app.record_qualification(**command)
        return self.app.worker_eligibility(command["social_worker_id"])

    @rpc
    def assign_social_worker(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AssignSocialWorker, data)
        self.app.assign_social_worker(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    def end_assignment(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.EndAssignment, data)
        self.app.end_assignment(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    def deactivate_social_worker(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.DeactivateSocialWorker, data)
        self.app.deactivate_social_worker(**command)
        return self.app.worker_eligibility(command["social_worker_id"])

    @rpc
    def worker_eligibility(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.worker_eligibility(**load(schemas.SocialWorkerRef, data))

    @rpc
    def get_social_worker(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_social_worker(**load(schemas.SocialWorkerRef, data))

    @rpc
    def list_social_workers(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_social_workers(**load(schemas.SchoolRef, data))

    @rpc
    def register_supervisor(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RegisterSupervisor, data)
        return {"supervisor_id": self.app.register_supervisor(**command)}

    @rpc
    def assign_supervisor(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AssignSupervisor, data)
        self.app.assign_supervisor(**command)
        return {"social_worker_id": command["social_worker_id"],
                "supervisor_id": command["supervisor_id"]}

    @rpc
    def list_supervisees(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_supervisees(**load(schemas.SupervisorRef, data))

    # Training (9.1a, 9.1b) and supervision sessions (6.2.2.2, 9.1c)

    @rpc
    def record_training(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"training_id": self.app.record_training(**load(schemas.RecordTraining, data))}

    @rpc
    def training_report(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.training_report(**load(schemas.TrainingReport, data))

    @rpc
    def record_supervision_session(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordSupervisionSession, data)
        return {"session_id": self.app.record_supervision_session(**command)}

    @rpc
    def supervision_report(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.supervision_report(**load(schemas.SchoolRef, data))

    # Risk escalations (9.6b, 4.1)

    @rpc
    def acknowledge_escalation(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.EscalationRef, data)
        return self.app.acknowledge_escalation(str(command["escalation_id"]))

    @rpc
    def record_escalation_action(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordEscalationAction, data)
        self.app.record_escalation_action(str(command["escalation_id"]), command["action"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    def resolve_escalation(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.ResolveEscalation, data)
        self.app.resolve_escalation(str(command["escalation_id"]), command["resolution"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    def get_escalation(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.EscalationRef, data)
        return self.app.get_escalation(str(command["escalation_id"]))

    @rpc
    def escalation_trail(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        command = load(schemas.EscalationRef, data)
        return self.app.escalation_trail(str(command["escalation_id"]))

    @rpc
    def list_escalations(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_escalations(**load(schemas.ListEscalations, data))

    # Quality findings (9.5c) and improvement actions (10.3)

    @rpc
    def list_findings(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_findings(**load(schemas.ListFindings, data))

    @rpc
    def open_improvement_action(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.OpenImprovementAction, data)
        command["finding_id"] = str(command["finding_id"])
        return {"action_id": self.app.open_improvement_action(**command)}

    @rpc
    def complete_improvement_action(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.CompleteImprovementAction, data)
        command["action_id"] = str(command["action_id"])
        self.app.complete_improvement_action(**command)
        return {"action_id": command["action_id"]}

    @rpc
    def list_improvement_actions(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_improvement_actions(**load(schemas.SchoolRef, data))

    # Complaints and feedback (9.2c, 10.1.2), evaluations (10.2.1, 10.2.3)

    @rpc
    def receive_complaint(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"complaint_id": self.app.receive_complaint(**load(schemas.ReceiveComplaint,
                                                                    data))}

    @rpc
    def record_complaint_step(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordComplaintStep, data)
        command["complaint_id"] = str(command["complaint_id"])
        self.app.record_complaint_step(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    def answer_complaint(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.AnswerComplaint, data)
        command["complaint_id"] = str(command["complaint_id"])
        self.app.answer_complaint(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    def get_complaint(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.ComplaintRef, data)
        return self.app.get_complaint(str(command["complaint_id"]))

    @rpc
    def list_complaints(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.app.list_complaints(**load(schemas.SchoolRef, data))

    @rpc
    def record_satisfaction_survey(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordSatisfactionSurvey, data)
        return {"survey_id": self.app.record_satisfaction_survey(**command)}

    @rpc
    def record_service_evaluation(self, data: dict[str, Any]) -> dict[str, Any]:
        command = load(schemas.RecordServiceEvaluation, data)
        return {"evaluation_id": self.app.record_service_evaluation(**command)}

    @rpc
    def evaluation_summary(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.evaluation_summary(**load(schemas.SchoolRef, data))

    # Compliance (the whole standard, per school and period)

    @rpc
    def compliance_report(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.app.compliance_report(**load(schemas.ComplianceReport, data))

    @rpc
    def compliance_report_csv(self, data: dict[str, Any]) -> str:
        return self.app.compliance_report_csv(**load(schemas.ComplianceReport, data))
