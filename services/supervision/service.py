"""The supervision service: RPC entrypoints, the cases subscription and the deadline timer
only; the work is in `app.py`. Each entrypoint names the roles that may call it at all (refused
before its payload is read), the payload schema, and the schema of a query's answer."""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from contracts.events.supervision import ACKNOWLEDGING_ROLES
from services.runtime.context import SYSTEM, acting_as
from services.runtime.entrypoints import rpc
from services.runtime.metrics import EscalationGauges, Metrics
from services.runtime.paging import page_of
from services.runtime.persistence import Cursor
from services.runtime.service import ApplicationDependency, PublishingService, command, query
from services.runtime.settings import settings
from services.runtime.subscription import subscribe
from services.supervision import schemas
from services.supervision.access import (
    EVALUATORS,
    EVERY_SCHOOL,
    INTAKE_ROLES,
    OVERSEERS,
    READERS,
    SCHOOL_ADMINS,
    STAFF_MANAGERS,
)
from services.supervision.app import CASES_EVENTS_ACTED_ON, SupervisionApplication

ESCALATION_READERS = (*READERS, "social_worker")


class SupervisionService(PublishingService):
    name = "supervision"
    app = ApplicationDependency(SupervisionApplication)
    metrics = Metrics(EscalationGauges)

    @subscribe("cases", acts_on=CASES_EVENTS_ACTED_ON)
    def on_cases_event(self, envelope: dict[str, Any], cursor: Cursor) -> None:
        self.app.handle_cases_event(envelope, cursor)

    @timer(interval=settings().supervision.timer_seconds)
    def check_deadlines(self) -> None:
        # 9.6b escalations climb and 9.5c findings are raised when the clock passes a deadline.
        with acting_as(SYSTEM):
            self.app.climb_overdue()
            self.app.raise_overdue_findings()

    # Schools (6.1, 8.1)

    @rpc
    @command(schemas.RegisterSchool, roles=SCHOOL_ADMINS, returns=schemas.SchoolId)
    def register_school(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"school_id": self.app.register_school(**command)}

    @rpc
    @command(schemas.RecordFacilities, roles=SCHOOL_ADMINS, returns=schemas.SchoolId)
    def record_facilities(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_facilities(**command)
        return {"school_id": command["school_id"]}

    @rpc
    @query(schemas.GetSchool, roles=READERS, returns=schemas.SchoolRecord)
    def get_school(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_school(**query)

    @rpc
    @query(schemas.ListSchools, roles=READERS, returns=page_of(schemas.SchoolRecord))
    def list_schools(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_schools(**query)

    # Social workers (6.2.1) and supervisors (6.2.2)

    @rpc
    @command(schemas.RegisterSocialWorker, roles=STAFF_MANAGERS, returns=schemas.SocialWorkerId)
    def register_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"social_worker_id": self.app.register_social_worker(**command)}

    @rpc
    @command(schemas.RecordQualification, roles=STAFF_MANAGERS, returns=schemas.Eligibility)
    def record_qualification(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.record_qualification(**command)

    @rpc
    @command(schemas.AssignSocialWorker, roles=STAFF_MANAGERS, returns=schemas.SocialWorkerId)
    def assign_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.assign_social_worker(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    @command(schemas.EndAssignment, roles=STAFF_MANAGERS, returns=schemas.SocialWorkerId)
    def end_assignment(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.end_assignment(**command)
        return {"social_worker_id": command["social_worker_id"]}

    @rpc
    @command(schemas.DeactivateSocialWorker, roles=STAFF_MANAGERS, returns=schemas.Eligibility)
    def deactivate_social_worker(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.deactivate_social_worker(**command)

    @rpc
    @query(schemas.WorkerEligibility, roles=(*STAFF_MANAGERS, "social_worker"),
           returns=schemas.Eligibility)
    def worker_eligibility(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.worker_eligibility(**query)

    @rpc
    @query(schemas.GetSocialWorker, roles=(*READERS, "social_worker"),
           returns=schemas.SocialWorkerRecord)
    def get_social_worker(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_social_worker(**query)

    @rpc
    @query(schemas.SocialWorkerHistory, roles=(*READERS, "social_worker"),
           returns=schemas.WorkerHistory)
    def get_social_worker_history(self, query: dict[str, Any]) -> dict[str, Any]:
        worker_id = query["social_worker_id"]
        return {"social_worker_id": worker_id,
                "steps": self.app.social_worker_history(worker_id)}

    @rpc
    @query(schemas.ListSocialWorkers, roles=READERS,
           returns=page_of(schemas.SocialWorkerRecord))
    def list_social_workers(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_social_workers(**query)

    @rpc
    @command(schemas.RegisterSupervisor, roles=SCHOOL_ADMINS, returns=schemas.SupervisorId)
    def register_supervisor(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"supervisor_id": self.app.register_supervisor(**command)}

    @rpc
    @command(schemas.AssignSupervisor, roles=STAFF_MANAGERS, returns=schemas.SupervisorAssignment)
    def assign_supervisor(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.assign_supervisor(**command)
        return {"social_worker_id": command["social_worker_id"],
                "supervisor_id": command["supervisor_id"]}

    @rpc
    @query(schemas.ListSupervisors, roles=READERS, returns=page_of(schemas.SupervisorRecord))
    def list_supervisors(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_supervisors(**query)

    @rpc
    @query(schemas.ListSupervisees, roles=READERS, returns=page_of(schemas.SocialWorkerRecord))
    def list_supervisees(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_supervisees(**query)

    # Training (9.1a, 9.1b) and supervision sessions (6.2.2.2, 9.1c)

    @rpc
    @command(schemas.RecordTraining, roles=STAFF_MANAGERS, returns=schemas.TrainingId)
    def record_training(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"training_id": self.app.record_training(**command)}

    @rpc
    @query(schemas.ListTrainings, roles=READERS, returns=page_of(schemas.TrainingRecord))
    def list_trainings(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_trainings(**query)

    @rpc
    @query(schemas.TrainingReport, roles=READERS, returns=schemas.TrainingReportRecord)
    def training_report(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.training_report(**query)

    @rpc
    @command(schemas.RecordSupervisionSession, roles=OVERSEERS, returns=schemas.SessionId)
    def record_supervision_session(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"session_id": self.app.record_supervision_session(**command)}

    @rpc
    @query(schemas.ListSupervisionSessions, roles=READERS,
           returns=page_of(schemas.SessionRecord))
    def list_supervision_sessions(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_supervision_sessions(**query)

    @rpc
    @query(schemas.SupervisionReport, roles=READERS, returns=schemas.SupervisionReportRecord)
    def supervision_report(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.supervision_report(**query)

    # Risk escalations (9.6b, 4.1)

    @rpc
    @command(schemas.AcknowledgeEscalation, roles=ACKNOWLEDGING_ROLES,
             returns=schemas.AcknowledgedEscalation)
    def acknowledge_escalation(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.app.acknowledge_escalation(str(command["escalation_id"]))

    @rpc
    @command(schemas.RecordEscalationAction, roles=(*OVERSEERS, "social_worker"),
             returns=schemas.EscalationId)
    def record_escalation_action(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.record_escalation_action(str(command["escalation_id"]), command["action"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    @command(schemas.ResolveEscalation, roles=OVERSEERS, returns=schemas.EscalationId)
    def resolve_escalation(self, command: dict[str, Any]) -> dict[str, Any]:
        self.app.resolve_escalation(str(command["escalation_id"]), command["resolution"])
        return {"escalation_id": str(command["escalation_id"])}

    @rpc
    @query(schemas.GetEscalation, roles=ESCALATION_READERS, returns=schemas.EscalationRecord)
    def get_escalation(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_escalation(str(query["escalation_id"]))

    @rpc
    @query(schemas.EscalationTrail, roles=ESCALATION_READERS,
           returns=schemas.EscalationTrailRecord)
    def escalation_trail(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.escalation_trail(str(query["escalation_id"]))

    @rpc
    @query(schemas.ListEscalations, roles=ESCALATION_READERS,
           returns=page_of(schemas.EscalationRecord))
    def list_escalations(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_escalations(**query)

    @rpc
    @query(schemas.ListEveryEscalation, roles=EVERY_SCHOOL,
           returns=page_of(schemas.EscalationRecord))
    def list_every_escalation(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_every_escalation(**query)

    @rpc
    @query(schemas.CountEscalationsBySchool, roles=EVERY_SCHOOL,
           returns=schemas.EscalationsBySchool)
    def count_escalations_by_school(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.count_escalations_by_school(query["school_id"])

    # Quality findings (9.5c) and improvement actions (10.3)

    @rpc
    @query(schemas.ListFindings, roles=READERS, returns=page_of(schemas.FindingRecord))
    def list_findings(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_findings(**query)

    @rpc
    @command(schemas.OpenImprovementAction, roles=OVERSEERS, returns=schemas.ActionId)
    def open_improvement_action(self, command: dict[str, Any]) -> dict[str, Any]:
        command["finding_id"] = str(command["finding_id"])
        return {"action_id": self.app.open_improvement_action(**command)}

    @rpc
    @command(schemas.CompleteImprovementAction, roles=OVERSEERS, returns=schemas.ActionId)
    def complete_improvement_action(self, command: dict[str, Any]) -> dict[str, Any]:
        command["action_id"] = str(command["action_id"])
        self.app.complete_improvement_action(**command)
        return {"action_id": command["action_id"]}

    @rpc
    @query(schemas.ListImprovementActions, roles=READERS,
           returns=page_of(schemas.ImprovementActionRecord))
    def list_improvement_actions(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_improvement_actions(**query)

    # Complaints and feedback (9.2c, 10.1.2), evaluations (10.2.1, 10.2.3)

    @rpc
    @command(schemas.ReceiveComplaint, roles=INTAKE_ROLES, returns=schemas.ComplaintId)
    def receive_complaint(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"complaint_id": self.app.receive_complaint(**command)}

    @rpc
    @command(schemas.RecordComplaintStep, roles=OVERSEERS, returns=schemas.ComplaintId)
    def record_complaint_step(self, command: dict[str, Any]) -> dict[str, Any]:
        command["complaint_id"] = str(command["complaint_id"])
        self.app.record_complaint_step(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    @command(schemas.AnswerComplaint, roles=OVERSEERS, returns=schemas.ComplaintId)
    def answer_complaint(self, command: dict[str, Any]) -> dict[str, Any]:
        command["complaint_id"] = str(command["complaint_id"])
        self.app.answer_complaint(**command)
        return {"complaint_id": command["complaint_id"]}

    @rpc
    @query(schemas.GetComplaint, roles=OVERSEERS, returns=schemas.ComplaintDetail)
    def get_complaint(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.get_complaint(str(query["complaint_id"]))

    @rpc
    @query(schemas.ListComplaints, roles=READERS, returns=page_of(schemas.ComplaintRecord))
    def list_complaints(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_complaints(**query)

    @rpc
    @command(schemas.RecordSatisfactionSurvey, roles=EVALUATORS, returns=schemas.SurveyId)
    def record_satisfaction_survey(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"survey_id": self.app.record_satisfaction_survey(**command)}

    @rpc
    @command(schemas.RecordServiceEvaluation, roles=EVALUATORS, returns=schemas.EvaluationId)
    def record_service_evaluation(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"evaluation_id": self.app.record_service_evaluation(**command)}

    @rpc
    @query(schemas.ListSatisfactionSurveys, roles=READERS,
           returns=page_of(schemas.SurveyRecord))
    def list_satisfaction_surveys(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_satisfaction_surveys(**query)

    @rpc
    @query(schemas.ListServiceEvaluations, roles=READERS,
           returns=page_of(schemas.EvaluationRecord))
    def list_service_evaluations(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.list_service_evaluations(**query)

    @rpc
    @query(schemas.EvaluationSummary, roles=READERS, returns=schemas.EvaluationSummaryRecord)
    def evaluation_summary(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.evaluation_summary(**query)

    # Compliance (the whole standard, per school and period)

    @rpc
    @query(schemas.ComplianceReport, roles=READERS, returns=schemas.ComplianceReportRecord)
    def compliance_report(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.app.compliance_report(**query)

    @rpc
    @query(schemas.ComplianceReportCsv, roles=READERS)
    def compliance_report_csv(self, query: dict[str, Any]) -> str:
        return self.app.compliance_report_csv(**query)
