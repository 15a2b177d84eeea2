"""The request behind each row of docs/permissions.md: (route, on) → a valid request on the world
of `permission_world.py`, for the role of the cell. `on` names the record's scope: `own` (the
social worker's own, in school JD001), `col` (a colleague's, in JD001), `oth` (school JD002),
`—` (nothing to scope), or a special case the document explains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.gateway.routes import BACKENDS
from services.runtime.cli.journeys import PLAN, QUALIFIED, client_id
from tests.integration.gateway.permission_world import (
    ACCESS_PURPOSE,
    ASSESSMENT,
    CLOSING,
    EVALUATIONS,
    INTERVENTION,
    OPENED,
    OTHER,
    OWN,
    REFERRAL,
    RESOURCE_REQUEST,
    STUDENT,
    World,
    today,
)


@dataclass(frozen=True)
class Request:
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


Recipe = Callable[[World, str], Request]
SCOPES = ("own", "col", "oth")
SCHOOL = {"own": OWN, "col": OWN, "oth": OTHER}
WORKER = {"own": "worker-1", "col": "worker-2", "oth": "worker-3"}
SUPERVISOR = {"own": "supervisor-1", "col": "supervisor-2", "oth": "supervisor-3"}
PERIOD = {"period_from": "2026-09-01", "period_to": "2026-12-31"}
REQUESTS: dict[tuple[str, str], Recipe] = {}


def row(route: str, on: str, recipe: Recipe) -> None:
    REQUESTS[(route, on)] = recipe


def scoped(route: str, recipe: Callable[[World, str, str], Request],
           scopes: tuple[str, ...] = SCOPES) -> None:
    """One row per scope, each with the same request on that scope's record."""
    for scope in scopes:
        row(route, scope, _bound(recipe, scope))


def _bound(recipe: Callable[[World, str, str], Request], scope: str) -> Recipe:
    def bound(w: World, role: str) -> Request:
        return recipe(w, role, scope)

    return bound


# The gateway's own routes: public.
row("GET /healthz", "—", lambda w, role: Request("/healthz"))
row("GET /readyz", "—", lambda w, role: Request("/readyz"))
row("GET /openapi.json", "—", lambda w, role: Request("/openapi.json"))
row("GET /docs", "—", lambda w, role: Request("/docs"))

# Cases: the client register.
scoped("POST /clients", lambda w, role, s: Request("/clients", {
    **STUDENT, "client_id": client_id(w.unique("client")), "school_id": SCHOOL[s]}),
       ("own", "oth"))
row("GET /clients", "—", lambda w, role: Request("/clients"))
scoped("GET /clients/{client_id}",
       lambda w, role, s: Request(f"/clients/{w[f'client-case-{s}']}"))
scoped("POST /clients/{client_id}/guardians",
       lambda w, role, s: Request(f"/clients/{w[f'client-case-{s}']}/guardians", {
           "name": "王强", "relation": "father", "contact": "137-0000-0000"}))
scoped("POST /clients/{client_id}/related-parties",
       lambda w, role, s: Request(f"/clients/{w[f'client-case-{s}']}/related-parties", {
           "kind": "teacher", "name": "李老师", "relation": "class teacher"}))

# Cases: opening, lists.
scoped("POST /cases", lambda w, role, s: Request("/cases", {
    "client_id": w[f"client-case-{'oth' if s == 'oth' else 'own'}"],
    "social_worker_id": WORKER[s], "service_codes": ["7.1.3a"], "opened_on": OPENED}))
row("GET /cases", "—", lambda w, role: Request("/cases"))
row("GET /cases", "col", lambda w, role: Request("/cases", params={
    "social_worker_id": "worker-2"}))
row("GET /cases/by-stage", "—", lambda w, role: Request("/cases/by-stage"))
row("GET /cases/overdue", "—", lambda w, role: Request("/cases/overdue"))
row("GET /follow-ups", "—", lambda w, role: Request("/follow-ups"))

# Cases: one case. Reading personal content of a closed case needs the reader's grant (9.4d).
scoped("GET /cases/{case_id}", lambda w, role, s: Request(f"/cases/{w[f'case-{s}']}"))
row("GET /cases/{case_id}", "closed", lambda w, role: Request(
    f"/cases/{w['case-sealed-own']}"))
row("GET /cases/{case_id}", "closed+grant", lambda w, role: Request(
    f"/cases/{w['case-closed-own']}", params={"purpose": "Review of the case."}))
scoped("GET /cases/{case_id}/timeline",
       lambda w, role, s: Request(f"/cases/{w[f'case-{s}']}/timeline"))


def case_command(route: str, suffix: str, body: Callable[[World, str], dict[str, Any]],
                 case: str = "case") -> None:
    """A command on a case: `case` names the records of its rows (`case-own`, `case-col`);
    another school's rows use that school's one case."""
    def recipe(w: World, role: str, scope: str) -> Request:
        name = f"{case}-{scope}" if scope != "oth" else "case-oth"
        return Request(f"/cases/{w[name]}{suffix}", body(w, scope))

    scoped(route, recipe)


case_command("POST /cases/{case_id}/intake", "/intake", lambda w, s: {
    "initial_information": "Also sleeps badly."})
case_command("POST /cases/{case_id}/intake/acceptance", "/intake/acceptance", lambda w, s: {
    "accepted_on": OPENED}, "case-accept")
case_command("POST /cases/{case_id}/intake/decline", "/intake/decline", lambda w, s: {
    "reason_code": "beyond_scope", "declined_on": OPENED,
    "referral": {"agency_kind": "mental_health"}}, "case-decline")
case_command("POST /cases/{case_id}/consents", "/consents", lambda w, s: {
    "party": "client", "given_on": "2026-09-02"})
case_command("POST /cases/{case_id}/consent-withdrawals", "/consent-withdrawals", lambda w, s: {
    "party": "guardian", "withdrawn_on": "2026-09-20"}, "case-withdraw")
case_command("POST /cases/{case_id}/assessments", "/assessments", lambda w, s: {
    "assessed_on": "2026-09-15", **ASSESSMENT})
case_command("POST /cases/{case_id}/plan", "/plan", lambda w, s: {
    "adopted_on": "2026-09-06", **PLAN})
case_command("POST /cases/{case_id}/plan/revisions", "/plan/revisions", lambda w, s: {
    "revised_on": "2026-09-16", "reason": "Add the teacher.", **PLAN})
case_command("POST /cases/{case_id}/interventions", "/interventions", lambda w, s: INTERVENTION)
case_command("POST /cases/{case_id}/resource-requests", "/resource-requests",
             lambda w, s: RESOURCE_REQUEST)
case_command("POST /cases/{case_id}/referrals", "/referrals", lambda w, s: REFERRAL)
case_command("POST /cases/{case_id}/evaluations", "/evaluations", lambda w, s: EVALUATIONS[0])
case_command("POST /cases/{case_id}/closing", "/closing", lambda w, s: CLOSING, "case-close")
case_command("POST /cases/{case_id}/follow-ups", "/follow-ups", lambda w, s: {
    "due_on": "2026-11-21"}, "case-closed")
scoped("POST /cases/{case_id}/follow-ups/{follow_up_id}", lambda w, role, s: Request(
    f"/cases/{w[f'case-closed-{s}']}/follow-ups/{w[f'follow-up-case-closed-{s}']}",
    {"done_on": "2026-10-21", "outcome": "stable"}))
case_command("POST /cases/{case_id}/reopening", "/reopening", lambda w, s: {
    "reopened_on": "2026-10-01", "reason": "Fights again."}, "case-reopen")
case_command("POST /cases/{case_id}/reassignment", "/reassignment", lambda w, s: {
    "to_social_worker_id": "worker-4" if s == "own" else "worker-1",
    "reassigned_on": "2026-09-03"}, "case-reassign")
case_command("POST /cases/{case_id}/risks", "/risks", lambda w, s: {
    "risk_type": "bullying", "level": "low", "raised_on": "2026-09-09"})
scoped("POST /cases/{case_id}/risks/{risk_id}/level", lambda w, role, s: Request(
    f"/cases/{w[f'case-{s}']}/risks/{w[f'risk-{s}']}/level",
    {"level": "high", "changed_on": "2026-09-10"}))
scoped("POST /cases/{case_id}/risks/{risk_id}/resolution", lambda w, role, s: Request(
    f"/cases/{w[f'case-{s}']}/risks/{w[f'risk-resolve-{s}']}/resolution",
    {"resolved_on": "2026-09-10"}))
scoped("POST /cases/{case_id}/disclosures", lambda w, role, s: Request(
    f"/cases/{w[f'case-{s}']}/disclosures", {
        "risk_id": w[f"risk-critical-{s}"], "recipients": [{"kind": "guardian", "who": "王芳"}],
        "what": "Self-harm risk.", "why": "Danger to life (4.1).",
        "disclosed_at": "2026-09-08T10:00:00+00:00"}))

# Cases: groups, letters, classes.
scoped("POST /groups", lambda w, role, s: Request("/groups", {
    "kind": "support", "purpose": "Friendship skills.", "service_codes": ["7.1.3a"],
    "social_worker_id": WORKER[s], "planned_sessions": 4, "formed_on": OPENED,
    "school_id": SCHOOL[s]}))
row("GET /groups", "—", lambda w, role: Request("/groups"))
scoped("GET /groups/{group_id}", lambda w, role, s: Request(f"/groups/{w[f'group-{s}']}"))
scoped("POST /groups/{group_id}/members", lambda w, role, s: Request(
    f"/groups/{w[f'group-{s}']}/members",
    {"client_id": w[f"client-case-closed-{s}"], "joined_on": "2026-09-02"}))
scoped("POST /groups/{group_id}/sessions", lambda w, role, s: Request(
    f"/groups/{w[f'group-{s}']}/sessions",
    {"held_on": "2026-09-15", "attended": [w[f"client-case-{s}"]]}))
scoped("POST /groups/{group_id}/evaluation", lambda w, role, s: Request(
    f"/groups/{w[f'group-{s}']}/evaluation",
    {"evaluated_on": "2026-09-30", "goal_attainment": [1, 2]}))
scoped("POST /groups/{group_id}/closing", lambda w, role, s: Request(
    f"/groups/{w[f'group-close-{s}']}/closing", {"closed_on": "2026-10-01"}))
scoped("POST /letters", lambda w, role, s: Request("/letters", {
    "received_on": OPENED, "anonymous": True, "content": "Who can I talk to?",
    "school_id": SCHOOL[s]}), ("own", "oth"))
row("GET /letters", "—", lambda w, role: Request("/letters"))
scoped("GET /letters/{letter_id}", lambda w, role, s: Request(f"/letters/{w[f'letter-{s}']}"),
       ("own", "oth"))
scoped("POST /letters/{letter_id}/reply", lambda w, role, s: Request(
    f"/letters/{w[f'letter-{s}']}/reply", {"answered_on": "2026-09-03",
                                           "reply": "Come to room 101 on Monday."}),
       ("own", "oth"))
scoped("POST /classes", lambda w, role, s: Request("/classes", {
    "theme": "life_education", "topic": "Friendship", "service_codes": ["7.1.1a"],
    "held_on": OPENED, "attendance": 25, "school_id": SCHOOL[s]}), ("own", "oth"))
row("GET /classes", "—", lambda w, role: Request("/classes"))
scoped("GET /classes/{class_id}",
       lambda w, role, s: Request(f"/classes/{w[f'class-view-{s}']}"), ("own", "oth"))

# Archive: the ledger.
row("GET /ledger/{source}/head", "—", lambda w, role: Request("/ledger/cases/head"))
row("POST /ledger/verifications", "—", lambda w, role: Request(
    "/ledger/verifications", {"against_stores": False}))
row("GET /ledger/verifications", "—", lambda w, role: Request("/ledger/verifications"))
row("GET /ledger/verifications/{verification_id}", "—",
    lambda w, role: Request(f"/ledger/verifications/{w['verification']}"))
row("GET /ledger/{source}/entries", "—", lambda w, role: Request("/ledger/cases/entries"))
row("GET /ledger/{source}/entries/{position}", "—",
    lambda w, role: Request("/ledger/cases/entries/1"))
row("GET /ledger/checkpoints", "—", lambda w, role: Request("/ledger/checkpoints"))
row("GET /ledger/alarms", "—", lambda w, role: Request("/ledger/alarms"))

# Archive: files, records, holds, disposal, access.
FILE_SCOPES = ("own", "oth")
row("GET /files", "—", lambda w, role: Request("/files"))
row("GET /disposal-requests", "—", lambda w, role: Request("/disposal-requests"))
row("GET /access-requests", "—", lambda w, role: Request("/access-requests"))
row("GET /file-reads", "—", lambda w, role: Request("/file-reads"))
scoped("GET /files/{file_id}",
       lambda w, role, s: Request(f"/files/{w[f'file-case-{s}']}"), FILE_SCOPES)
scoped("GET /files/{file_id}/as-of", lambda w, role, s: Request(
    f"/files/{w[f'file-case-{s}']}/as-of", params={"at": "2099-01-01T00:00:00+00:00"}),
       FILE_SCOPES)
scoped("GET /files/{file_id}/access-report", lambda w, role, s: Request(
    f"/files/{w[f'file-case-{s}']}/access-report"), FILE_SCOPES)
scoped("GET /records/{source}/{aggregate_id}",
       lambda w, role, s: Request(f"/records/cases/{w[f'case-{s}']}"), FILE_SCOPES)
scoped("GET /records/{source}/{record_id}/file",
       lambda w, role, s: Request(f"/records/cases/{w[f'case-{s}']}/file"), FILE_SCOPES)
scoped("POST /files/{file_id}/legal-holds", lambda w, role, s: Request(
    f"/files/{w[f'file-class-hold-{s}']}/legal-holds", {
        "hold_id": w.unique("hold"), "authority": "court", "reference": "(2026)2"}),
       FILE_SCOPES)
scoped("POST /files/{file_id}/legal-holds/{hold_id}/lifting", lambda w, role, s: Request(
    f"/files/{w[f'file-class-lift-{s}']}/legal-holds/hold-{s}/lifting"), FILE_SCOPES)
scoped("POST /files/{file_id}/disposal-request", lambda w, role, s: Request(
    f"/files/{w[f'file-class-dispose-{s}']}/disposal-request"), FILE_SCOPES)
scoped("POST /files/{file_id}/disposal-approval", lambda w, role, s: Request(
    f"/files/{w[f'file-class-approve-{s}']}/disposal-approval"), FILE_SCOPES)
scoped("POST /files/{file_id}/disposal-rejection", lambda w, role, s: Request(
    f"/files/{w[f'file-class-reject-{s}']}/disposal-rejection",
    {"reason_code": "still_needed"}), FILE_SCOPES)
scoped("POST /files/{file_id}/access-requests", lambda w, role, s: Request(
    f"/files/{w[f'file-case-{s}']}/access-requests", ACCESS_PURPOSE), FILE_SCOPES)
scoped("POST /access-requests/{request_id}/approval", lambda w, role, s: Request(
    f"/access-requests/{w[f'request-approve-{s}']}/approval", {"valid_hours": 8}),
       FILE_SCOPES)
scoped("POST /access-requests/{request_id}/denial", lambda w, role, s: Request(
    f"/access-requests/{w[f'request-deny-{s}']}/denial", {"reason_code": "not_need_to_know"}),
       FILE_SCOPES)
scoped("POST /access-grants/{grant_id}/revocation", lambda w, role, s: Request(
    f"/access-grants/{w[f'request-revoke-{s}']}/revocation",
    {"reason_code": "purpose_fulfilled"}), FILE_SCOPES)

# Resources: providers, resources, donations, feedback.
scoped("POST /providers", lambda w, role, s: Request("/providers", {
    "provider_kind": "organisation", "sector": "community", "name": "Library",
    "registered_on": OPENED, "school_id": SCHOOL[s]}), ("own", "oth"))
row("GET /providers", "—", lambda w, role: Request("/providers"))
scoped("GET /providers/{provider_id}", lambda w, role, s: Request(
    f"/providers/{w[f'provider-{s}']}"), ("own", "oth"))
scoped("POST /providers/{provider_id}/resources", lambda w, role, s: Request(
    f"/providers/{w[f'provider-{s}']}/resources", {
        "kind": "venue", "title": "Reading room", "capacity": 2, "school_ids": [SCHOOL[s]],
        "valid_from": "2026-01-01"}), ("own", "oth"))
scoped("POST /providers/{provider_id}/donations", lambda w, role, s: Request(
    f"/providers/{w[f'provider-{s}']}/donations", {
        "kind": "funds", "amount_cents": 50000, "received_on": OPENED}), ("own", "oth"))
scoped("GET /providers/{provider_id}/feedback", lambda w, role, s: Request(
    f"/providers/{w[f'provider-{s}']}/feedback", params=PERIOD), ("own", "oth"))
scoped("POST /providers/{provider_id}/feedback", lambda w, role, s: Request(
    f"/providers/{w[f'provider-{s}']}/feedback", PERIOD), ("own", "oth"))
row("GET /provider-feedback", "—", lambda w, role: Request("/provider-feedback"))
row("GET /resources", "—", lambda w, role: Request("/resources"))
scoped("GET /resources/{resource_id}", lambda w, role, s: Request(
    f"/resources/{w[f'resource-{s}']}"), ("own", "oth"))
row("GET /donations", "—", lambda w, role: Request("/donations"))
row("GET /donations/totals", "—", lambda w, role: Request("/donations/totals"))

# Resources: volunteers.
scoped("POST /volunteers", lambda w, role, s: Request("/volunteers", {
    "name": "赵敏", "skills": ["art"], "registered_on": OPENED, "school_id": SCHOOL[s]}),
       ("own", "oth"))
row("GET /volunteers", "—", lambda w, role: Request("/volunteers"))
scoped("GET /volunteers/{volunteer_id}", lambda w, role, s: Request(
    f"/volunteers/{w[f'volunteer-{s}']}"), ("own", "oth"))
scoped("POST /volunteers/{volunteer_id}/checks", lambda w, role, s: Request(
    f"/volunteers/{w[f'volunteer-{s}']}/checks", {
        "result": "passed", "checked_on": OPENED, "expires_on": "2027-09-01"}), ("own", "oth"))
scoped("POST /volunteers/{volunteer_id}/assignments", lambda w, role, s: Request(
    f"/volunteers/{w[f'volunteer-{s}']}/assignments", {
        "activity_id": "book-fair", "activity_kind": "event", "with_students": False,
        "starts_on": OPENED}), ("own", "oth"))
scoped("POST /volunteers/{volunteer_id}/hours", lambda w, role, s: Request(
    f"/volunteers/{w[f'volunteer-{s}']}/hours", {
        "assignment_id": w[f"assignment-{s}"], "served_on": "2026-09-02", "minutes": 120}),
       ("own", "oth"))

# Resources: links and referrals, which belong to cases.
row("GET /resource-links", "—", lambda w, role: Request("/resource-links"))
scoped("GET /resource-links/{request_id}", lambda w, role, s: Request(
    f"/resource-links/{w[f'link-view-{s}']}"))
scoped("GET /resource-links/{request_id}/proposals", lambda w, role, s: Request(
    f"/resource-links/{w[f'link-view-{s}']}/proposals"))


def link_command(route: str, suffix: str, link: str,
                 body: Callable[[World], dict[str, Any]]) -> None:
    """A command on a resource link; another school's rows use its one link."""
    def recipe(w: World, role: str, scope: str) -> Request:
        name = f"link-{link}-{scope}" if scope != "oth" else "link-view-oth"
        return Request(f"/resource-links/{w[name]}{suffix}", body(w))

    scoped(route, recipe)


link_command("POST /resource-links/{request_id}/offer", "/offer", "offer",
             lambda w: {"resource_id": w["resource-own"]})
link_command("POST /resource-links/{request_id}/acceptance", "/acceptance", "accept",
             lambda w: {"accepted_on": today()})
link_command("POST /resource-links/{request_id}/decline", "/decline", "decline",
             lambda w: {"reason": "client_refused", "declined_on": today()})
link_command("POST /resource-links/{request_id}/deliveries", "/deliveries", "deliver",
             lambda w: {"delivered_on": today()})
link_command("POST /resource-links/{request_id}/usage", "/usage", "use",
             lambda w: {"units_used": 1, "outcome": "need_met", "recorded_on": today()})
row("GET /referrals", "—", lambda w, role: Request("/referrals"))
scoped("GET /referrals/{referral_id}", lambda w, role, s: Request(
    f"/referrals/{w[f'referral-view-{s}']}"))
scoped("POST /referrals/{referral_id}/acceptance", lambda w, role, s: Request(
    f"/referrals/{w[f'referral-accept-{s}']}/acceptance", {"accepted_on": "2026-09-12"}))
scoped("POST /referrals/{referral_id}/completion", lambda w, role, s: Request(
    f"/referrals/{w[f'referral-complete-{s}']}/completion",
    {"outcome": "service_provided", "completed_on": "2026-09-20"}))

# Resources: the community network.
scoped("POST /joint-activities", lambda w, role, s: Request("/joint-activities", {
    "partner_ids": [w["provider-own"]], "theme": "Family day", "service_codes": ["7.3a"],
    "held_on": OPENED, "participant_count": 40, "school_id": SCHOOL[s]}), ("own", "oth"))
row("GET /joint-activities", "—", lambda w, role: Request("/joint-activities"))
scoped("GET /community-network", lambda w, role, s: Request(
    "/community-network", params={"school_id": SCHOOL[s]}), ("own", "oth"))

# Supervision: schools and staff.
row("POST /schools", "own", lambda w, role: Request("/schools", {
    "school_id": OWN, "name": "School JD001", "district": "JD", "service_mode": "resident"}))
row("POST /schools", "oth", lambda w, role: Request("/schools", {
    "school_id": w.unique("JD9"), "name": "New school", "district": "JD",
    "service_mode": "visiting"}))
SCHOOL_SCOPES = ("own", "oth")
row("GET /schools", "—", lambda w, role: Request("/schools"))
scoped("GET /schools/{school_id}",
       lambda w, role, s: Request(f"/schools/{SCHOOL[s]}"), SCHOOL_SCOPES)
scoped("POST /schools/{school_id}/facilities", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/facilities", {"facility_kinds": ["office", "case_room"]}),
       SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/social-workers", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/social-workers"), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/supervisors", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/supervisors"), SCHOOL_SCOPES)
scoped("POST /social-workers", lambda w, role, s: Request("/social-workers", {
    "social_worker_id": w.unique("sw"), "employment": "part_time",
    "school_ids": [SCHOOL[s]], **QUALIFIED}), SCHOOL_SCOPES)
scoped("GET /social-workers/{social_worker_id}",
       lambda w, role, s: Request(f"/social-workers/{WORKER[s]}"))
scoped("GET /social-workers/{social_worker_id}/history",
       lambda w, role, s: Request(f"/social-workers/{WORKER[s]}/history"))
scoped("GET /social-workers/{social_worker_id}/eligibility",
       lambda w, role, s: Request(f"/social-workers/{WORKER[s]}/eligibility"))
scoped("POST /social-workers/{social_worker_id}/qualifications", lambda w, role, s: Request(
    f"/social-workers/{'worker-2' if s == 'own' else 'worker-3'}/qualifications", QUALIFIED),
       SCHOOL_SCOPES)
scoped("POST /social-workers/{social_worker_id}/assignments", lambda w, role, s: Request(
    "/social-workers/sw-visiting/assignments", {"school_id": SCHOOL[s]}), SCHOOL_SCOPES)
scoped("POST /social-workers/{social_worker_id}/assignment-end", lambda w, role, s: Request(
    "/social-workers/sw-leaving/assignment-end", {"school_id": SCHOOL[s]}), SCHOOL_SCOPES)
scoped("POST /social-workers/{social_worker_id}/deactivation", lambda w, role, s: Request(
    f"/social-workers/sw-deactivate-{s}/deactivation", {"reason": "transferred"}),
       SCHOOL_SCOPES)
scoped("POST /social-workers/{social_worker_id}/supervisor", lambda w, role, s: Request(
    f"/social-workers/sw-supervised-{s}/supervisor",
    {"supervisor_id": SUPERVISOR[s]}), SCHOOL_SCOPES)
scoped("POST /supervisors", lambda w, role, s: Request("/supervisors", {
    "supervisor_id": w.unique("su"), "employment": "part_time", "setting": "external",
    "certificate_level": "senior", "years_of_practice": 10, "school_id": SCHOOL[s]}),
       SCHOOL_SCOPES)
scoped("GET /supervisors/{supervisor_id}/supervisees", lambda w, role, s: Request(
    f"/supervisors/{SUPERVISOR[s]}/supervisees"))

# Supervision: training and supervision sessions.
scoped("POST /trainings", lambda w, role, s: Request("/trainings", {
    "social_worker_id": "worker-2" if s == "own" else "worker-3", "kind": "continuing",
    "minutes": 360, "topics": ["ethics"], "completed_on": today()}), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/training-report", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/training-report", params={"year": 2026}), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/trainings", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/trainings"), SCHOOL_SCOPES)
scoped("POST /supervision-sessions", lambda w, role, s: Request("/supervision-sessions", {
    "supervisor_id": SUPERVISOR[s], "social_worker_ids": [WORKER[s]],
    "kinds": ["supportive"], "format": "individual", "held_on": "2026-10-12",
    "duration_minutes": 60}))
scoped("GET /schools/{school_id}/supervision-report", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/supervision-report"), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/supervision-sessions", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/supervision-sessions"), SCHOOL_SCOPES)

# Supervision: escalations. Acknowledging changes an escalation for good: each cell has its own.
scoped("GET /schools/{school_id}/escalations", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/escalations"), SCHOOL_SCOPES)
row("GET /escalations", "—", lambda w, role: Request("/escalations"))
row("GET /escalations/by-school", "—", lambda w, role: Request(
    "/escalations/by-school", params={"school_id": [OWN, OTHER]}))
scoped("GET /escalations/{escalation_id}", lambda w, role, s: Request(
    f"/escalations/{w[f'escalation-esc-view-{s}']}"))
scoped("GET /escalations/{escalation_id}/trail", lambda w, role, s: Request(
    f"/escalations/{w[f'escalation-esc-view-{s}']}/trail"))
scoped("POST /escalations/{escalation_id}/acknowledgement", lambda w, role, on: Request(
    f"/escalations/{w[f'escalation-ack-{on}:{role}']}/acknowledgement"),
       ("own", "col", "own-critical", "oth"))
scoped("POST /escalations/{escalation_id}/actions", lambda w, role, s: Request(
    f"/escalations/{w[f'escalation-esc-act-{s}']}/actions", {"action": "contacted_guardian"}))
scoped("POST /escalations/{escalation_id}/resolution", lambda w, role, s: Request(
    f"/escalations/{w[f'escalation-esc-resolve-{s}']}/resolution", {"resolution": "handled"}))

# Supervision: quality.
scoped("GET /schools/{school_id}/findings", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/findings"), SCHOOL_SCOPES)
scoped("POST /improvement-actions", lambda w, role, s: Request("/improvement-actions", {
    "finding_id": w[f"finding-open-{s}"], "owner_id": WORKER[s], "plan": "Assess in a week.",
    "due_on": "2027-02-28"}), SCHOOL_SCOPES)
scoped("POST /improvement-actions/{action_id}/completion", lambda w, role, s: Request(
    f"/improvement-actions/{w[f'action-{s}']}/completion", {"result": "Reviews held."}),
       SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/improvement-actions", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/improvement-actions"), SCHOOL_SCOPES)

# Supervision: complaints and evaluations.
scoped("POST /complaints", lambda w, role, s: Request("/complaints", {
    "school_id": SCHOOL[s], "channel": "online", "anonymous": True,
    "content": "The mailbox is never emptied."}), SCHOOL_SCOPES)
COMPLAINT_SCOPES = ("own", "about", "oth")
scoped("GET /complaints/{complaint_id}", lambda w, role, s: Request(
    f"/complaints/{w[f'complaint-{s}']}"), COMPLAINT_SCOPES)
scoped("POST /complaints/{complaint_id}/steps", lambda w, role, s: Request(
    f"/complaints/{w[f'complaint-{s}']}/steps", {"step": "investigating"}), COMPLAINT_SCOPES)
scoped("POST /complaints/{complaint_id}/answer", lambda w, role, s: Request(
    f"/complaints/{w[f'complaint-{s}']}/answer",
    {"outcome": "upheld", "answer": "The mailbox is now emptied daily."}), COMPLAINT_SCOPES)
scoped("GET /schools/{school_id}/complaints", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/complaints"), SCHOOL_SCOPES)
scoped("POST /satisfaction-surveys", lambda w, role, s: Request("/satisfaction-surveys", {
    "school_id": SCHOOL[s], "respondent_kind": "student", "respondent_count": 40,
    "satisfied_count": 35, "mean_score_permille": 4200, "evaluator_type": "third_party", **PERIOD,
    "period_to": "2026-10-31"}), SCHOOL_SCOPES)
scoped("POST /service-evaluations", lambda w, role, s: Request("/service-evaluations", {
    "school_id": SCHOOL[s], "scope": "school", "evaluator_type": "third_party",
    "rating": "good"}), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/satisfaction-surveys", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/satisfaction-surveys"), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/service-evaluations", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/service-evaluations"), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/evaluation-summary", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/evaluation-summary"), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/compliance-report", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/compliance-report", params=PERIOD), SCHOOL_SCOPES)
scoped("GET /schools/{school_id}/compliance-report.csv", lambda w, role, s: Request(
    f"/schools/{SCHOOL[s]}/compliance-report.csv", params=PERIOD), SCHOOL_SCOPES)

# Every service: the event feed and the status.
scoped("GET /events/{service}", lambda w, role, service: Request(f"/events/{service}"),
       BACKENDS)
scoped("GET /services/{service}/status",
       lambda w, role, service: Request(f"/services/{service}/status"), BACKENDS)
