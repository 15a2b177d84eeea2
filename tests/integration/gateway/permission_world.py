"""The world the permission matrix runs in (docs/permissions.md): two schools with their staff,
and a record of every kind for each scope the matrix names (the social worker's own, a
colleague's, another school's), built once per test module through the HTTP API.

Commands that change a record's state for good (close, reopen, reassign, decide, acknowledge)
get records of their own, so that no cell depends on another cell having run or not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from services.runtime.cli.journeys import PLAN, QUALIFIED
from services.runtime.cli.journeys import client_id as client_id_for
from services.runtime.clock import clock
from tests.integration.gateway.conftest import Api
from tests.support.waiting import wait_for

OWN, OTHER = "JD001", "JD002"
# The seven columns of the matrix: staff of the own school, and the roles with no school.
ACTORS: dict[str, dict[str, Any]] = {
    "social_worker": {"id": "worker-1", "role": "social_worker", "school_id": OWN},
    "supervisor": {"id": "supervisor-1", "role": "supervisor", "school_id": OWN},
    "archivist": {"id": "archivist-1", "role": "archivist", "school_id": OWN},
    "school_admin": {"id": "admin-1", "role": "school_admin", "school_id": OWN},
    "auditor": {"id": "auditor-1", "role": "auditor", "school_id": None},
    "integrator": {"id": "integrator-1", "role": "integrator", "school_id": None},
    "operator": {"id": "operator-1", "role": "operator", "school_id": None},
}
ROLES = tuple(ACTORS)
W1, SU1, AR1, SA1, OP = (ACTORS[r] for r in (
    "social_worker", "supervisor", "archivist", "school_admin", "operator"))
# Who owns the other records: a colleague in the own school, and the other school's staff.
W2 = {"id": "worker-2", "role": "social_worker", "school_id": OWN}
W3 = {"id": "worker-3", "role": "social_worker", "school_id": OTHER}
SU3 = {"id": "supervisor-3", "role": "supervisor", "school_id": OTHER}
AR3 = {"id": "archivist-3", "role": "archivist", "school_id": OTHER}
SA3 = {"id": "admin-3", "role": "school_admin", "school_id": OTHER}
# The owner of each scope: (social worker, school admin, archivist, supervisor).
SCOPES = {"own": (W1, SA1, AR1, SU1), "col": (W2, SA1, AR1, SU1), "oth": (W3, SA3, AR3, SU3)}

OPENED = "2026-09-01"
STUDENT = {
    "client_type": "student", "name": "王小明", "date_of_birth": "2014-03-02", "grade": 6,
    "guardians": [{"name": "王芳", "relation": "mother", "contact": "138-0000-0000"}],
}
INTAKE = {"worker_introduced": True, "respect_and_empathy": True,
          "initial_information": "Fights in class."}
ASSESSMENT = {
    "environment": "Lives with mother; new school this term.", "problems": ["anger in class"],
    "causes": ["family move"], "priorities": ["anger first"], "strengths": ["likes football"],
}
EVALUATIONS = (
    {"kind": "process", "evaluated_on": "2026-09-20", "progress": "On schedule.",
     "worker_performance": "As planned.", "reflection": "Involve the teacher earlier."},
    {"kind": "outcome", "evaluated_on": "2026-09-20", "client_change": "Stays in class.",
     "goals": [{"goal_number": 1, "attainment": 1}, {"goal_number": 2, "attainment": 0}],
     "satisfaction": 4},
)
CLOSING = {"reason": "goals_met", "closed_on": "2026-09-21", "timing_agreed": True,
           "service_reviewed": True, "relationship_ended": True}
INTERVENTION = {"form": "direct", "method": "case_work", "service_codes": ["7.1.3a"],
                "delivered_on": "2026-09-07", "duration_minutes": 45, "notes": "Session 1."}
RESOURCE_REQUEST = {"kind": "tutoring", "service_codes": ["7.1.3a"], "quantity": 1}
REFERRAL = {"agency_kind": "mental_health", "reason_code": "specialist_need",
            "referred_on": "2026-09-10"}
ACCESS_PURPOSE = {"purpose": "Review of the case for supervision.", "duration_hours": 24}
# Acknowledgement changes an escalation for good: each cell of these rows gets its own.
ACKNOWLEDGED_ROWS = {"own": ("own", "medium"), "col": ("col", "medium"),
                     "own-critical": ("own", "critical"), "oth": ("oth", "medium")}


def today() -> str:
    """The services' date on the real clock, the schools' date: offers of resources are dated
    today there (from 16:00 UTC it is already tomorrow in China)."""
    return clock.today().isoformat()


class World:
    """The records, by name (`world["case-own"]`), and an HTTP client per actor."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.ids: dict[str, str] = {}
        self._clients: dict[str, Api] = {}
        self._numbers = itertools.count(1)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def unique(self, prefix: str) -> str:
        """A fresh identifier, for cells that create a record."""
        return f"{prefix}-{next(self._numbers)}"

    def as_(self, actor: dict[str, Any]) -> Api:
        if actor["id"] not in self._clients:
            self._clients[actor["id"]] = self.api.as_(actor)
        return self._clients[actor["id"]]

    def call(self, actor: dict[str, Any], method: str, path: str, body: Any = None,
             params: dict[str, Any] | None = None) -> Any:
        response = self.as_(actor).request(method, path, json=body, params=params)
        assert response.ok, f"building the world: {method} {path} as {actor['id']}: " \
                            f"{response.status_code} {response.text[:300]}"
        return response.json()

    def post(self, actor: dict[str, Any], path: str, body: Any = None) -> Any:
        return self.call(actor, "POST", path, body if body is not None else {})

    def get(self, actor: dict[str, Any], path: str, **params: Any) -> Any:
        return self.call(actor, "GET", path, params=params)

    # Building.

    def build(self) -> World:
        self._staff()
        self._cases()
        self._activities()
        self._resources()
        self._supervision()
        self._wait_for_subscribers()
        self._archive()
        self._links_and_referrals()
        self._escalations()
        self._findings()
        return self

    def _staff(self) -> None:
        for school in (OWN, OTHER):
            self.post(OP, "/schools", {"school_id": school, "name": f"School {school}",
                                       "district": "JD", "service_mode": "resident",
                                       "facility_kinds": ["office", "case_room"]})
        workers = {"worker-1": [OWN], "worker-2": [OWN], "worker-3": [OTHER], "worker-4": [OWN],
                   "sw-visiting": [OTHER], "sw-leaving": [OWN, OTHER],
                   "sw-deactivate-own": [OWN], "sw-deactivate-oth": [OTHER],
                   "sw-supervised-own": [OWN], "sw-supervised-oth": [OTHER]}
        for worker, schools in workers.items():
            self.post(OP, "/social-workers", {"social_worker_id": worker,
                                              "employment": "full_time", "school_ids": schools,
                                              **QUALIFIED})
        for supervisor, school in (("supervisor-1", OWN), ("supervisor-2", OWN),
                                   ("supervisor-3", OTHER)):
            self.post(OP, "/supervisors", {"supervisor_id": supervisor, "employment": "full_time",
                                           "certificate_level": "intermediate",
                                           "years_of_practice": 5, "school_id": school})
        # supervisor-1 supervises worker-1 and worker-4 (who takes the reassigned case).
        for worker, supervisor in (("worker-1", "supervisor-1"), ("worker-2", "supervisor-2"),
                                   ("worker-3", "supervisor-3"), ("worker-4", "supervisor-1")):
            self.post(OP, f"/social-workers/{worker}/supervisor",
                      {"supervisor_id": supervisor})

    def _client(self, worker: dict[str, Any], name: str) -> str:
        client_id = client_id_for(self.unique(f"client-{name}"))
        self.post(worker, "/clients", {**STUDENT, "client_id": client_id})
        self.ids[f"client-{name}"] = client_id
        return client_id

    def _case(self, worker: dict[str, Any], name: str, stage: str = "plan",
              assessed_on: str = "2026-09-04", planned_on: str = "2026-09-06") -> str:
        """A case of `worker` up to `stage`: "intake" (opened), "plan" (accepted, consented,
        assessed, planned), "evaluated" (and an intervention and both evaluations), "closed"."""
        client_id = self._client(worker, name)
        case_id = self.post(worker, "/cases", {
            "client_id": client_id, "social_worker_id": worker["id"],
            "service_codes": ["7.1.3a"], "opened_on": OPENED, "intake": INTAKE})["case_id"]
        self.ids[name] = case_id
        path = f"/cases/{case_id}"
        if stage != "intake":
            self.post(worker, f"{path}/intake/acceptance", {"accepted_on": OPENED})
            for party in ("client", "guardian"):
                self.post(worker, f"{path}/consents", {"party": party, "given_on": OPENED})
            self.post(worker, f"{path}/assessments", {"assessed_on": assessed_on, **ASSESSMENT})
            self.post(worker, f"{path}/plan", {"adopted_on": planned_on, **PLAN})
        if stage in ("evaluated", "closed"):
            self.post(worker, f"{path}/interventions", INTERVENTION)
            for evaluation in EVALUATIONS:
                self.post(worker, f"{path}/evaluations", evaluation)
        if stage == "closed":
            self.post(worker, f"{path}/closing", CLOSING)
            self.ids[f"follow-up-{name}"] = self.post(
                worker, f"{path}/follow-ups", {"due_on": "2026-10-21"})["follow_up_id"]
        return case_id

    def _risk(self, worker: dict[str, Any], case: str, name: str, level: str = "medium") -> str:
        risk_id = self.post(worker, f"/cases/{self[case]}/risks", {
            "risk_type": "bullying" if level == "medium" else "self_harm", "level": level,
            "raised_on": "2026-09-08"})["risk_id"]
        self.ids[name] = risk_id
        return risk_id

    def _cases(self) -> None:
        for scope, (worker, *_) in SCOPES.items():
            self._case(worker, f"case-{scope}")
            self._case(worker, f"case-closed-{scope}", "closed")
            self._risk(worker, f"case-{scope}", f"risk-{scope}")
            self._risk(worker, f"case-{scope}", f"risk-critical-{scope}", "critical")
            self._risk(worker, f"case-{scope}", f"risk-resolve-{scope}")
            for purpose in ("view", "act", "resolve"):
                self._risk(worker, f"case-{scope}", f"risk-esc-{purpose}-{scope}")
        for scope, worker in (("own", W1), ("col", W2)):
            self._case(worker, f"case-accept-{scope}", "intake")
            self._case(worker, f"case-decline-{scope}", "intake")
            self._case(worker, f"case-withdraw-{scope}")
            self._case(worker, f"case-close-{scope}", "evaluated")
            self._case(worker, f"case-reopen-{scope}", "closed")
            self._case(worker, f"case-reassign-{scope}", "intake")
        # A closed case of the social worker that nobody holds a grant for.
        self._case(W1, "case-sealed-own", "closed")
        for row, (scope, level) in ACKNOWLEDGED_ROWS.items():
            worker = SCOPES[scope][0]
            for role in ROLES:
                self._risk(worker, f"case-{scope}", f"risk-ack-{row}:{role}", level)
        # Process steps taken late: supervision finds the assessment and the plan overdue (9.5c).
        self._case(W2, "case-late-own", assessed_on="2026-10-15", planned_on="2026-11-15")
        self._case(W3, "case-late-oth", assessed_on="2026-10-15", planned_on="2026-11-15")

    def _activities(self) -> None:
        for scope, (worker, *_) in SCOPES.items():
            for name in (f"group-{scope}", f"group-close-{scope}"):
                group_id = self.post(worker, "/groups", {
                    "kind": "support", "purpose": "Friendship skills.",
                    "service_codes": ["7.1.3a"], "social_worker_id": worker["id"],
                    "planned_sessions": 4, "formed_on": OPENED})["group_id"]
                self.ids[name] = group_id
                self.post(worker, f"/groups/{group_id}/members",
                          {"client_id": self[f"client-case-{scope}"], "joined_on": OPENED})
                self.post(worker, f"/groups/{group_id}/sessions", {
                    "held_on": "2026-09-08", "attended": [self[f"client-case-{scope}"]]})
                if name.startswith("group-close"):
                    self.post(worker, f"/groups/{group_id}/evaluation",
                              {"evaluated_on": "2026-09-30", "goal_attainment": [1]})
            self.ids[f"letter-{scope}"] = self.post(worker, "/letters", {
                "received_on": OPENED, "anonymous": True,
                "content": "I feel lonely at break time."})["letter_id"]
            # Classes close on the day they are held: with CASEBOOK_RETENTION_YEARS=KT=0 their
            # files may be disposed of at once.
            for purpose in ("view", "hold", "lift", "dispose", "approve", "reject"):
                self.ids[f"class-{purpose}-{scope}"] = self.post(worker, "/classes", {
                    "theme": "life_education", "topic": "Staying safe online",
                    "service_codes": ["7.1.1a"], "held_on": OPENED, "attendance": 30,
                    "grade": 6})["class_id"]

    def _resources(self) -> None:
        for scope, admin, schools in (("own", SA1, [OWN, OTHER]), ("oth", SA3, [OTHER])):
            provider_id = self.post(admin, "/providers", {
                "provider_kind": "organisation", "sector": "community", "name": "Youth centre",
                "contact": {"person": "张老师", "phone": "021-0000-0000"},
                "registered_on": OPENED})["provider_id"]
            self.ids[f"provider-{scope}"] = provider_id
            self.ids[f"resource-{scope}"] = self.post(
                admin, f"/providers/{provider_id}/resources", {
                    "kind": "tutoring", "title": "Homework club", "capacity": 100,
                    "school_ids": schools, "valid_from": "2026-01-01"})["resource_id"]
            volunteer_id = self.post(admin, "/volunteers", {
                "name": "李华", "contact": {"phone": "139-0000-0000"}, "skills": ["tutoring"],
                "registered_on": OPENED})["volunteer_id"]
            self.ids[f"volunteer-{scope}"] = volunteer_id
            self.ids[f"assignment-{scope}"] = self.post(
                admin, f"/volunteers/{volunteer_id}/assignments", {
                    "activity_id": "homework-club", "activity_kind": "tutoring",
                    "with_students": False, "starts_on": OPENED})["assignment_id"]
        for scope, (worker, *_) in SCOPES.items():
            case_path = f"/cases/{self[f'case-{scope}']}"
            for purpose in ("view", "offer", "accept", "decline", "deliver", "use"):
                self.ids[f"link-{purpose}-{scope}"] = self.post(
                    worker, f"{case_path}/resource-requests", RESOURCE_REQUEST)["request_id"]
            for purpose in ("view", "accept", "complete"):
                self.ids[f"referral-{purpose}-{scope}"] = self.post(
                    worker, f"{case_path}/referrals", REFERRAL)["referral_id"]

    def _supervision(self) -> None:
        for name, admin, school, about in (("complaint-own", SA1, OWN, None),
                                           ("complaint-about", SA1, OWN, "supervisor-1"),
                                           ("complaint-oth", SA3, OTHER, None)):
            about_whom = {"about_social_worker_id": about} if about else {}
            self.ids[name] = self.post(admin, "/complaints", {
                "school_id": school, "channel": "mailbox", "content": "Nobody called back.",
                **about_whom})["complaint_id"]

    def _wait_for_subscribers(self) -> None:
        """The archive, resources and supervision learn of cases by its events, and cases of
        supervision's supervisors: wait until each has what the matrix reads."""
        for worker in ("worker-1", "worker-4"):
            self._wait_until_readable(SU1, f"/cases?social_worker_id={worker}",
                                      f"cases to learn that supervisor-1 supervises {worker}")
        files = [name for name in self.ids if name.startswith(("case-", "class-"))]
        for name in files:
            self._wait_until_readable(OP, f"/records/cases/{self[name]}/file",
                                      f"the archive to file {name}")
            self.ids[f"file-{name}"] = self.get(OP, f"/records/cases/{self[name]}/file")["file_id"]
        for name in [n for n in self.ids if n.startswith(("link-", "referral-"))]:
            kind = "resource-links" if name.startswith("link-") else "referrals"
            owner = SCOPES[name.rsplit("-", 1)[1]][0]
            self._wait_until_readable(owner, f"/{kind}/{self[name]}",
                                      f"resources to open {name}")

    def _wait_until_readable(self, actor: dict[str, Any], path: str, what: str) -> None:
        def readable() -> bool:
            return self.as_(actor).get(path).status_code == 200

        wait_for(readable, timeout=60, what=what)

    def _archive(self) -> None:
        self.ids["verification"] = self.post(OP, "/ledger/verifications",
                                             {"against_stores": False})["verification_id"]
        for scope, (_, _, archivist, supervisor) in SCOPES.items():
            if scope == "col":
                continue
            self.post(archivist, f"/files/{self[f'file-class-lift-{scope}']}/legal-holds",
                      {"hold_id": f"hold-{scope}", "authority": "court", "reference": "(2026)1"})
            for purpose in ("approve", "reject"):
                self.post(archivist, f"/files/{self[f'file-class-{purpose}-{scope}']}"
                                     "/disposal-request")
            # Requests on a class file: a grant there lets nobody read a case of the matrix.
            file_id = self[f"file-class-view-{scope}"]
            for purpose in ("approve", "deny", "revoke"):
                self.ids[f"request-{purpose}-{scope}"] = self.post(
                    archivist, f"/files/{file_id}/access-requests", ACCESS_PURPOSE)["request_id"]
            self.post(supervisor, f"/access-requests/{self[f'request-revoke-{scope}']}/approval")
        # Every reader of the own school and the auditor hold a grant on the closed case.
        closed = self["file-case-closed-own"]
        for role in ("social_worker", "supervisor", "archivist", "school_admin", "auditor"):
            request_id = self.post(ACTORS[role], f"/files/{closed}/access-requests",
                                   ACCESS_PURPOSE)["request_id"]
            approver = SA1 if role == "supervisor" else SU1
            self.post(approver, f"/access-requests/{request_id}/approval")

    def _links_and_referrals(self) -> None:
        """Each link and referral in the state its row's command needs."""
        steps = {"accept": 1, "decline": 1, "deliver": 2, "use": 3}
        for scope in ("own", "col"):
            worker = SCOPES[scope][0]
            for purpose, depth in steps.items():
                link = f"/resource-links/{self[f'link-{purpose}-{scope}']}"
                self.post(worker, f"{link}/offer", {"resource_id": self["resource-own"]})
                if depth > 1:
                    self.post(worker, f"{link}/acceptance", {"accepted_on": today()})
                if depth > 2:
                    self.post(worker, f"{link}/deliveries", {"delivered_on": today()})
            self.post(worker, f"/referrals/{self[f'referral-complete-{scope}']}/acceptance",
                      {"accepted_on": "2026-09-12"})

    def _escalations(self) -> None:
        risks = {self[name]: name.removeprefix("risk-") for name in self.ids
                 if name.startswith(("risk-esc-", "risk-ack-"))}

        def opened() -> bool:
            for school in (OWN, OTHER):
                page = self.get(OP, f"/schools/{school}/escalations", limit=200)
                for escalation in page["items"]:
                    name = risks.get(escalation["risk_id"])
                    if name is not None:
                        self.ids[f"escalation-{name}"] = escalation["escalation_id"]
            return all(f"escalation-{name}" in self.ids for name in risks.values())

        wait_for(opened, timeout=60, what="supervision to open an escalation for every risk")
        for scope in SCOPES:
            for purpose in ("act", "resolve"):
                self.post(OP, f"/escalations/{self[f'escalation-esc-{purpose}-{scope}']}"
                              "/acknowledgement")

    def _findings_of(self, school: str, case_id: str) -> Callable[[], list[str]]:
        """The findings of a late case, once both (assessment and plan) are there."""
        def findings() -> list[str]:
            found = [finding["finding_id"] for finding in self.get(
                OP, f"/schools/{school}/findings", limit=200)["items"]
                if finding["case_id"] == case_id]
            return found if len(found) >= 2 else []

        return findings

    def _findings(self) -> None:
        for scope, school, overseer in (("own", OWN, SU1), ("oth", OTHER, OP)):
            case_id = self[f"case-late-{scope}"]
            found = wait_for(self._findings_of(school, case_id), timeout=60,
                             what=f"supervision to find the late steps of case-late-{scope}")
            self.ids[f"finding-open-{scope}"], self.ids[f"finding-act-{scope}"] = found[:2]
            self.ids[f"action-{scope}"] = self.post(overseer, "/improvement-actions", {
                "finding_id": found[1], "owner_id": "worker-2", "plan": "Weekly case review.",
                "due_on": "2027-01-31"})["action_id"]
