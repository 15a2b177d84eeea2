"""The route table: every HTTP route of the API and the RPC it forwards to.

A route says how the request becomes the RPC's arguments (`call`):
- "payload": one object, the JSON body (commands) or the query string (queries) with the path
  parameters added, loaded and validated by the service's own schema;
- "args": the path parameters, in order, as positional arguments;
- "none": no arguments.
`returns` says what the RPC answers: an object, or a list that the gateway pages with `limit` and
`offset` and a `total` (the services filter what the actor may see; the gateway only slices).

Authorisation is the services' (DESIGN.md "Actors, access, privacy"): `roles` is set only on
routes whose RPC serves other services and so checks no actor (the event feed, status); there
the gateway lets through only those roles. On the other routes the gateway refuses first the
roles the service declares for the RPC (`describe()`), before it reads the body or query
(permission before validation); the service checks again, and checks scope. docs/permissions.md
is the matrix of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule

from services.gateway.problems import MethodNotAllowed, RouteNotFound
from services.runtime.launcher import PUBLISHERS

# The services the gateway forwards to: every one the launcher starts but the front ends.
BACKENDS = PUBLISHERS
EVENT_READERS = ("integrator", "auditor", "operator")
OPERATORS = ("operator",)
# A service's status is read from its own store in milliseconds: one that takes longer is stuck
# (a lock, a store that does not answer), which the operator is told in seconds, not half a
# minute; the console's status page asks all four at once within it.
STATUS_TIMEOUT = 5.0


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # werkzeug rule syntax: /cases/<case_id>
    service: str  # a service name, or "<service>" to take it from the path
    rpc: str
    summary: str
    call: str = "payload"
    # "object", "list" (a page, by its service), "array" (small, not paged), "events", "csv",
    # "status" (every service's own, `ServiceStatus`)
    returns: str = "object"
    status: int = 200
    roles: tuple[str, ...] | None = None
    tag: str = ""
    # Seconds the route waits for its answer; None: the gateway's RPC timeout.
    timeout: float | None = None

    @property
    def operation_id(self) -> str:
        if self.service == "<service>":
            return self.rpc
        return f"{self.service}.{self.rpc}"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", self.path)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.path)

    def service_for(self, values: dict[str, str]) -> str:
        return values["service"] if self.service == "<service>" else self.service


def _command(path: str, service: str, rpc: str, summary: str, status: int = 200) -> Route:
    return Route("POST", path, service, rpc, summary, status=status, tag=service)


def _query(path: str, service: str, rpc: str, summary: str, call: str = "args",
           returns: str = "object") -> Route:
    return Route("GET", path, service, rpc, summary, call=call, returns=returns, tag=service)


ROUTES: tuple[Route, ...] = (
    # The gateway's own: public, answered without any service.
    Route("GET", "/healthz", "gateway", "healthz", "The gateway is up.", tag="gateway"),
    Route("GET", "/readyz", "gateway", "readyz", "Every service answers a ping.", tag="gateway"),
    Route("GET", "/openapi.json", "gateway", "openapi", "This API, as OpenAPI 3.1.", tag="gateway"),
    Route("GET", "/docs", "gateway", "docs", "The API reference, as HTML.", tag="gateway"),
    # Cases: the client register (9.2a, 4.2, 4.6).
    _command("/clients", "cases", "register_client", "Register a client (9.2a).", 201),
    _query("/clients", "cases", "list_clients", "The clients the caller's work reaches.",
           "payload", "list"),
    _query("/clients/<client_id>", "cases", "get_client", "A client with guardians and parties.",
           "payload"),
    _command("/clients/<client_id>/guardians", "cases", "add_guardian",
             "Add a guardian to a client (4.2).", 201),
    _command("/clients/<client_id>/related-parties", "cases", "add_related_party",
             "Add a related party of a client's ecosystem (4.6).", 201),
    # Cases: the service process of 8.2.1.1 / 8.3.
    _command("/cases", "cases", "open_case", "Open a case for a client (8.3.1).", 201),
    _query("/cases", "cases", "list_caseload", "The cases the caller may see, by worker.",
           "payload", "list"),
    _query("/cases/by-stage", "cases", "count_open_cases_by_stage",
           "Open cases counted by their step of 8.2.1.1.", "payload"),
    _query("/cases/overdue", "cases", "list_overdue", "Key control points overdue (9.5).",
           "payload", "list"),
    _query("/cases/<case_id>", "cases", "get_case",
           "A case with its personal content; closed cases are read under an archive grant.",
           "payload"),
    _query("/cases/<case_id>/timeline", "cases", "get_case_timeline",
           "What happened in a case, in order.", "payload"),
    _command("/cases/<case_id>/intake", "cases", "record_intake", "Record the intake (8.3.1)."),
    _command("/cases/<case_id>/intake/acceptance", "cases", "accept_intake",
             "Accept the intake: a professional relationship begins (8.3.1e)."),
    _command("/cases/<case_id>/intake/decline", "cases", "decline_intake",
             "Decline the intake with a reason and a referral (8.3.1e)."),
    _command("/cases/<case_id>/consents", "cases", "record_consent",
             "Record informed consent, and a guardian's for a minor (4.2).", 201),
    _command("/cases/<case_id>/consent-withdrawals", "cases", "withdraw_consent",
             "Record that consent was withdrawn (4.2)."),
    _command("/cases/<case_id>/assessments", "cases", "record_assessment",
             "Record an assessment (8.3.2).", 201),
    _command("/cases/<case_id>/plan", "cases", "adopt_plan",
             "Adopt the service plan with its seven parts (8.3.3).", 201),
    _command("/cases/<case_id>/plan/revisions", "cases", "revise_plan",
             "Revise the plan: a new version, the old one kept (8.3.3).", 201),
    _command("/cases/<case_id>/interventions", "cases", "log_intervention",
             "Log an intervention delivered in a case (8.3.4).", 201),
    _command("/cases/<case_id>/resource-requests", "cases", "request_resource",
             "Ask the resources service for a resource (8.3.4b).", 201),
    _command("/cases/<case_id>/referrals", "cases", "make_referral",
             "Refer the client to an agency (8.3.1e, 7.1.4b).", 201),
    _command("/cases/<case_id>/evaluations", "cases", "record_evaluation",
             "Record a process or outcome evaluation (8.3.5).", 201),
    _command("/cases/<case_id>/closing", "cases", "close_case", "Close a case (8.3.6)."),
    _query("/follow-ups", "cases", "list_follow_ups_due",
           "Follow-ups not yet done, due from today within `due_within_days` days (9.2b).",
           "payload", "list"),
    _command("/cases/<case_id>/follow-ups", "cases", "schedule_follow_up",
             "Schedule a follow-up after closing (9.2b).", 201),
    _command("/cases/<case_id>/follow-ups/<follow_up_id>", "cases", "record_follow_up",
             "Record a follow-up that was done (9.2b)."),
    _command("/cases/<case_id>/reopening", "cases", "reopen_case", "Reopen a closed case."),
    _command("/cases/<case_id>/reassignment", "cases", "reassign_case",
             "Assign the case to another social worker."),
    _command("/cases/<case_id>/risks", "cases", "raise_risk", "Register a risk (9.6a).", 201),
    _command("/cases/<case_id>/risks/<risk_id>/level", "cases", "change_risk_level",
             "Change a risk's level (9.6b)."),
    _command("/cases/<case_id>/risks/<risk_id>/resolution", "cases", "resolve_risk",
             "Resolve a risk."),
    _command("/cases/<case_id>/disclosures", "cases", "record_disclosure",
             "Record who was told what, when and why, under 4.1.", 201),
    # Cases: group work (8.2.1.3), the mailbox (8.2.2), experiential classes (8.2.3).
    _command("/groups", "cases", "form_group", "Form a group.", 201),
    _query("/groups", "cases", "list_groups", "Groups the caller leads or oversees.", "payload",
           "list"),
    _query("/groups/<group_id>", "cases", "get_group", "A group, its members and sessions.",
           "payload"),
    _command("/groups/<group_id>/members", "cases", "add_group_member", "Add a member.", 201),
    _command("/groups/<group_id>/sessions", "cases", "hold_group_session",
             "Record a group session and its attendance.", 201),
    _command("/groups/<group_id>/evaluation", "cases", "evaluate_group", "Evaluate the group."),
    _command("/groups/<group_id>/closing", "cases", "close_group", "Close the group."),
    _command("/letters", "cases", "receive_letter", "Record a letter to the mailbox.", 201),
    _query("/letters", "cases", "list_letters", "The school's mailbox, with reply deadlines.",
           "payload", "list"),
    _query("/letters/<letter_id>", "cases", "get_letter", "A letter and its reply.", "payload"),
    _command("/letters/<letter_id>/reply", "cases", "answer_letter", "Reply to a letter."),
    _command("/classes", "cases", "hold_class", "Record an experiential class (8.2.3).", 201),
    _query("/classes", "cases", "list_classes", "Experiential classes held or overseen.",
           "payload", "list"),
    _query("/classes/<class_id>", "cases", "get_class", "An experiential class.", "payload"),
    # Archive: the audit ledger and its verification.
    _query("/ledger/<source>/head", "archive", "ledger_head",
           "The last ledger entry of one source: position and hash.", "payload"),
    _query("/ledger/<source>/entries", "archive", "list_ledger",
           "One source's ledger entries, by position.", "payload", "list"),
    _command("/ledger/verifications", "archive", "verify_ledger",
             "Recompute every source's hash chain and report each problem; the report is "
             "kept.", 201),
    _query("/ledger/verifications", "archive", "list_verifications",
           "The verifications kept, the newest first.", "payload", "list"),
    _query("/ledger/verifications/<verification_id>", "archive", "get_verification",
           "A kept verification's report, as it was answered.", "payload"),
    _query("/ledger/<source>/entries/<position>", "archive", "get_ledger_entry",
           "One ledger entry: its envelope as stored and the text its hash covers.",
           "payload"),
    _query("/ledger/checkpoints", "archive", "list_checkpoints",
           "Signed checkpoints of the ledger.", "payload", "list"),
    _query("/ledger/alarms", "archive", "list_chain_alarms",
           "Breaks in a source's chain the ledger met as envelopes arrived.", "payload", "list"),
    # Archive: files (9.4a-c), retention and disposal (9.4e), access (9.4d).
    _query("/files", "archive", "list_files", "Archive files, filtered.", "payload", "list"),
    _query("/files/<file_id>", "archive", "get_file", "One archive file.", "payload"),
    _query("/files/<file_id>/as-of", "archive", "get_file_as_of",
           "An archive file as it was at a time or ledger position.", "payload"),
    _query("/files/<file_id>/access-report", "archive", "get_access_report",
           "Every access request, grant and read of a file (9.4d).", "payload"),
    _query("/records/<source>/<aggregate_id>", "archive", "get_record",
           "A record as the ledger holds it.", "payload"),
    _query("/records/<source>/<record_id>/file", "archive", "find_file",
           "The archive file of a record.", "payload"),
    _command("/files/<file_id>/legal-holds", "archive", "place_legal_hold",
             "Place a legal hold that blocks disposal.", 201),
    _command("/files/<file_id>/legal-holds/<hold_id>/lifting", "archive", "lift_legal_hold",
             "Lift a legal hold."),
    _command("/files/<file_id>/disposal-request", "archive", "request_disposal",
             "Ask for disposal after the retention period (9.4e)."),
    _command("/files/<file_id>/disposal-approval", "archive", "approve_disposal",
             "Approve a disposal: personal content is destroyed (9.4e)."),
    _command("/files/<file_id>/disposal-rejection", "archive", "reject_disposal",
             "Reject a disposal request."),
    _query("/disposal-requests", "archive", "list_disposals", "Disposal requests, filtered.",
           "payload", "list"),
    _command("/files/<file_id>/access-requests", "archive", "request_access",
             "Ask to read a file's personal content (9.4d).", 201),
    _query("/access-requests", "archive", "list_access_requests",
           "Access requests, filtered.", "payload", "list"),
    _command("/access-requests/<request_id>/approval", "archive", "approve_access",
             "Approve an access request: a time-limited grant."),
    _command("/access-requests/<request_id>/denial", "archive", "deny_access",
             "Deny an access request."),
    _command("/access-grants/<grant_id>/revocation", "archive", "revoke_access",
             "Revoke an access grant."),
    _query("/file-reads", "archive", "list_reads",
           "Reads and refused reads of archived files, filtered.", "payload", "list"),
    # Resources: providers, resources, donations (9.3a).
    _command("/providers", "resources", "register_provider", "Register a resource provider.", 201),
    _query("/providers", "resources", "list_providers", "Resource providers.", "payload", "list"),
    _query("/providers/<provider_id>", "resources", "get_provider", "One resource provider.",
           "payload"),
    _command("/providers/<provider_id>/resources", "resources", "register_resource",
             "Register a resource a provider offers.", 201),
    _command("/providers/<provider_id>/donations", "resources", "record_donation",
             "Record a donation from a provider (9.3a).", 201),
    _query("/providers/<provider_id>/feedback", "resources", "provider_feedback",
           "How a provider's resources were used in a period (9.3c).", "payload"),
    _command("/providers/<provider_id>/feedback", "resources", "issue_provider_feedback",
             "Issue the usage feedback of a period to the provider (9.3c).", 201),
    _query("/provider-feedback", "resources", "list_issued_feedback",
           "Feedback issued to providers, as issued (9.3c).", "payload", "list"),
    _query("/resources", "resources", "list_resources", "Registered resources, filtered.",
           "payload", "list"),
    _query("/resources/<resource_id>", "resources", "get_resource", "One resource.", "payload"),
    _query("/donations", "resources", "list_donations", "Donations, filtered.", "payload",
           "list"),
    _query("/donations/totals", "resources", "get_donation_totals",
           "Donations added up per kind and currency.", "payload"),
    # Resources: volunteers (9.3b).
    _command("/volunteers", "resources", "register_volunteer", "Register a volunteer.", 201),
    _query("/volunteers", "resources", "list_volunteers", "Volunteers.", "payload", "list"),
    _query("/volunteers/<volunteer_id>", "resources", "get_volunteer", "One volunteer.",
           "payload"),
    _command("/volunteers/<volunteer_id>/checks", "resources", "record_volunteer_check",
             "Record a volunteer's background check.", 201),
    _command("/volunteers/<volunteer_id>/assignments", "resources", "assign_volunteer",
             "Assign a volunteer to an activity.", 201),
    _command("/volunteers/<volunteer_id>/hours", "resources", "log_volunteer_hours",
             "Log the time a volunteer served, in minutes.", 201),
    # Resources: resource links (8.3.4b) and referrals (8.3.1e, 7.1.4b).
    _query("/resource-links", "resources", "list_resource_links", "Resource links, by state.",
           "payload", "list"),
    _query("/resource-links/<request_id>", "resources", "get_resource_link",
           "One resource link, named by its cases request id.", "payload"),
    _query("/resource-links/<request_id>/proposals", "resources", "propose_resources",
           "Resources that fit the request.", "payload", "list"),
    _command("/resource-links/<request_id>/offer", "resources", "offer_resource",
             "Offer a resource for the request."),
    _command("/resource-links/<request_id>/acceptance", "resources", "accept_resource_link",
             "Record that the offered resource was accepted."),
    _command("/resource-links/<request_id>/decline", "resources", "decline_resource_link",
             "Record that the offered resource was declined, with the reason."),
    _command("/resource-links/<request_id>/deliveries", "resources", "record_delivery",
             "Record the delivery of the linked resource."),
    _command("/resource-links/<request_id>/usage", "resources", "record_usage",
             "Record how the linked resource was used."),
    _query("/referrals", "resources", "list_referrals", "Referrals.", "payload", "list"),
    _query("/referrals/<referral_id>", "resources", "get_referral", "One referral.", "payload"),
    _command("/referrals/<referral_id>/acceptance", "resources", "accept_referral",
             "Record that the receiving agency accepted the referral."),
    _command("/referrals/<referral_id>/completion", "resources", "complete_referral",
             "Record the referral's outcome."),
    # Resources: the family-school-community network (7.3a, 7.5).
    _command("/joint-activities", "resources", "hold_joint_activity",
             "Record an activity held with community partners.", 201),
    _query("/joint-activities", "resources", "list_joint_activities",
           "Activities held with community partners.", "payload", "list"),
    _query("/community-network", "resources", "get_community_network",
           "A school's partners and joint activities.", "payload"),
    # Supervision: schools and staff (6.1, 6.2).
    _command("/schools", "supervision", "register_school", "Register a school (8.1).", 201),
    _query("/schools", "supervision", "list_schools", "The schools the caller may see.",
           "payload", "list"),
    _query("/schools/<school_id>", "supervision", "get_school", "A school.", "payload"),
    _command("/schools/<school_id>/facilities", "supervision", "record_facilities",
             "Record the school's service space (6.1)."),
    _query("/schools/<school_id>/social-workers", "supervision", "list_social_workers",
           "The school's social workers.", "payload", "list"),
    _command("/social-workers", "supervision", "register_social_worker",
             "Register a social worker (6.2.1).", 201),
    _query("/social-workers/<social_worker_id>", "supervision", "get_social_worker",
           "A social worker.", "payload"),
    _query("/social-workers/<social_worker_id>/history", "supervision",
           "get_social_worker_history",
           "Every change of a social worker's staff record, in order (6.2.1, 6.2.2, 9.1).",
           "payload"),
    _query("/social-workers/<social_worker_id>/eligibility", "supervision",
           "worker_eligibility", "Whether the worker may take cases (6.2.1.2, 9.1a).",
           "payload"),
    _command("/social-workers/<social_worker_id>/qualifications", "supervision",
             "record_qualification", "Record a qualification (6.2.1.2)."),
    _command("/social-workers/<social_worker_id>/assignments", "supervision",
             "assign_social_worker", "Assign the worker to a school."),
    _command("/social-workers/<social_worker_id>/assignment-end", "supervision",
             "end_assignment", "End the worker's assignment to a school."),
    _command("/social-workers/<social_worker_id>/deactivation", "supervision",
             "deactivate_social_worker", "Record that the worker left."),
    _command("/social-workers/<social_worker_id>/supervisor", "supervision",
             "assign_supervisor", "Assign the worker's supervisor (6.2.2)."),
    _command("/supervisors", "supervision", "register_supervisor",
             "Register a supervisor (6.2.2.1).", 201),
    _query("/schools/<school_id>/supervisors", "supervision", "list_supervisors",
           "The supervisors a worker of the school may be assigned (6.2.2.1).", "payload",
           "list"),
    _query("/supervisors/<supervisor_id>/supervisees", "supervision", "list_supervisees",
           "The supervisor's social workers.", "payload", "list"),
    # Supervision: training (9.1) and supervision sessions (6.2.2.2, 9.1c).
    _command("/trainings", "supervision", "record_training", "Record training (9.1).", 201),
    _query("/schools/<school_id>/training-report", "supervision", "training_report",
           "Training minutes per worker in a year (9.1b).", "payload"),
    _query("/schools/<school_id>/trainings", "supervision", "list_trainings",
           "Training completed by the school's workers (9.1).", "payload", "list"),
    _command("/supervision-sessions", "supervision", "record_supervision_session",
             "Record a supervision session (6.2.2.2).", 201),
    _query("/schools/<school_id>/supervision-report", "supervision", "supervision_report",
           "Supervision per worker by kind (6.2.2.2).", "payload"),
    _query("/schools/<school_id>/supervision-sessions", "supervision",
           "list_supervision_sessions", "Supervision sessions with the school's workers.",
           "payload", "list"),
    # Supervision: risk escalations (9.6b).
    _query("/schools/<school_id>/escalations", "supervision", "list_escalations",
           "The school's risk escalations.", "payload", "list"),
    _query("/escalations", "supervision", "list_every_escalation",
           "Every school's risk escalations (the operator's and the auditor's).", "payload",
           "list"),
    _query("/escalations/by-school", "supervision", "count_escalations_by_school",
           "Escalations waiting for acknowledgement, and overdue, in each school named.",
           "payload"),
    _query("/escalations/<escalation_id>", "supervision", "get_escalation",
           "A risk escalation.", "payload"),
    _query("/escalations/<escalation_id>/trail", "supervision", "escalation_trail",
           "What happened to an escalation, in order.", "payload"),
    _command("/escalations/<escalation_id>/acknowledgement", "supervision",
             "acknowledge_escalation", "Acknowledge an escalation (9.6b)."),
    _command("/escalations/<escalation_id>/actions", "supervision", "record_escalation_action",
             "Record an action taken on an escalation.", 201),
    _command("/escalations/<escalation_id>/resolution", "supervision", "resolve_escalation",
             "Resolve an escalation."),
    # Supervision: quality (9.5, 10.3), complaints (9.2c, 10.1.2), evaluation (10.2).
    _query("/schools/<school_id>/findings", "supervision", "list_findings",
           "Key control points found unmet (9.5).", "payload", "list"),
    _command("/improvement-actions", "supervision", "open_improvement_action",
             "Open an improvement action for a finding (10.3).", 201),
    _command("/improvement-actions/<action_id>/completion", "supervision",
             "complete_improvement_action", "Complete an improvement action (10.3)."),
    _query("/schools/<school_id>/improvement-actions", "supervision",
           "list_improvement_actions", "The school's improvement actions.", "payload", "list"),
    _command("/complaints", "supervision", "receive_complaint",
             "Receive a complaint or feedback, also anonymous (9.2c).", 201),
    _query("/complaints/<complaint_id>", "supervision", "get_complaint", "A complaint.",
           "payload"),
    _command("/complaints/<complaint_id>/steps", "supervision", "record_complaint_step",
             "Record a handling step of a complaint.", 201),
    _command("/complaints/<complaint_id>/answer", "supervision", "answer_complaint",
             "Answer a complaint."),
    _query("/schools/<school_id>/complaints", "supervision", "list_complaints",
           "The school's complaints.", "payload", "list"),
    _command("/satisfaction-surveys", "supervision", "record_satisfaction_survey",
             "Record a satisfaction survey (10.2.1).", 201),
    _command("/service-evaluations", "supervision", "record_service_evaluation",
             "Record a service evaluation and who evaluated (10.2.3).", 201),
    _query("/schools/<school_id>/satisfaction-surveys", "supervision",
           "list_satisfaction_surveys", "The school's satisfaction surveys (10.2.1).",
           "payload", "list"),
    _query("/schools/<school_id>/service-evaluations", "supervision",
           "list_service_evaluations", "The school's service evaluations (10.2.1).", "payload",
           "list"),
    _query("/schools/<school_id>/evaluation-summary", "supervision", "evaluation_summary",
           "Surveys and evaluations of a school (10.2).", "payload"),
    _query("/schools/<school_id>/compliance-report", "supervision", "compliance_report",
           "Which shall-items of the standard the school met in a period.", "payload"),
    _query("/schools/<school_id>/compliance-report.csv", "supervision",
           "compliance_report_csv", "The compliance report as CSV.", "payload", "csv"),
    # Every service: its published event stream and its state, for integrators and operators.
    Route("GET", "/events/<service>", "<service>", "events_since",
          "Envelopes a service published after a position, oldest first.", call="args",
          returns="events", roles=EVENT_READERS, tag="events"),
    Route("GET", "/services/<service>/status", "<service>", "status",
          "A service's stored, relayed and published positions and its cursors.", call="none",
          returns="status", roles=OPERATORS, tag="operations", timeout=STATUS_TIMEOUT),
)


def url_map(routes: tuple[Route, ...] = ROUTES) -> Map:
    return Map(
        [Rule(route.path, methods=[route.method], endpoint=str(index))
         for index, route in enumerate(routes)],
        strict_slashes=False, merge_slashes=False,
    )


class Router:
    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self.routes = routes
        self.map = url_map(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        adapter = self.map.bind("casebook", path_info=path)
        try:
            endpoint, matched = adapter.match(method=method)
        except WerkzeugMethodNotAllowed as error:
            allowed = sorted(error.valid_methods or [])
            raise MethodNotAllowed(
                f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}.", allowed
            ) from None
        except WerkzeugNotFound:
            raise RouteNotFound(f"No route {path}; see /openapi.json.") from None
        route, values = self.routes[int(endpoint)], {k: str(v) for k, v in matched.items()}
        if route.service == "<service>" and values["service"] not in BACKENDS:
            raise RouteNotFound(
                f"No service {values['service']!r}; services: {', '.join(BACKENDS)}."
            )
        return route, values
