"""One record as its reader sees it: a case, a client, a group, a letter, a class, with their
personal content opened (or `[destroyed]` after disposal). Pure functions of an aggregate and a
way to open sealed tokens; who may read what is decided before they are called (`app.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.cases.classes import ExperientialClass
from services.cases.clients import Client
from services.cases.domain import Case
from services.cases.groups import Group
from services.cases.mailbox import Letter
from services.runtime.plain import plain

Open = Callable[[str | None], Any]


def case_record(case: Case, open_: Open, grant_id: str | None) -> dict[str, Any]:
    return plain({
        "case_id": str(case.id),
        "version": case.version,
        "school_id": case.school_id,
        "client_id": case.client_id,
        "client_type": case.client_type,
        "client_is_minor": case.client_is_minor,
        "social_worker_id": case.social_worker_id,
        "service_codes": case.service_codes,
        "opened_on": case.opened_on,
        "letter_id": case.letter_id,
        "status": case.status,
        "stage": case.stage,
        "intake": {**case.intake,
                   "initial_information": open_(case.intake.get("initial_information")),
                   "accepted_on": case.accepted_on},
        "declined": _opened(case.declined, open_, "explanation"),
        "consents": [_opened(c, open_, "given_by", "withdrawal_reason")
                     for c in case.consents.values()],
        "consent_given": case.consent_given(),
        "assessments": [_opened(a, open_, "environment", "problems", "causes", "priorities",
                                "strengths", "preliminary_plan") for a in case.assessments],
        "plans": [{**plan, "parts": {k: open_(v) for k, v in plan["parts"].items()},
                   "reason": open_(plan.get("reason"))} for plan in case.plans],
        "interventions": [_opened(i, open_, "notes") for i in case.interventions],
        "resource_requests": [_opened(r, open_, "description") for r in case.resource_requests],
        "referrals": [_opened(r, open_, "note") for r in case.referrals],
        "evaluations": [{**e, "items": {k: open_(v) for k, v in e["items"].items()}}
                        for e in case.evaluations],
        "closings": [_opened(c, open_, "summary") for c in case.closings],
        "follow_ups": [_opened(f, open_, "notes") for f in case.follow_ups.values()],
        "reopenings": [_opened(r, open_, "reason") for r in case.reopenings],
        "assignments": [_opened(a, open_, "reason") for a in case.assignments],
        "risks": [_opened(r, open_, "description", "resolution") for r in case.risks.values()],
        "disclosures": [_opened(d, open_, "details") for d in case.disclosures],
        "grant_id": grant_id,
    })


def client_record(client: Client, open_: Open) -> dict[str, Any]:
    return plain({
        "client_id": client.client_id,
        "version": client.version,
        "school_id": client.school_id,
        "client_type": client.client_type,
        "grade": client.grade,
        "is_minor_at_registration": client.is_minor,
        "details": open_(client.details),
        "guardians": [open_(token) for token in client.guardians],
        "related_parties": [open_(party["details"]) for party in client.related_parties],
        "personal_content_destroyed_on": client.personal_content_destroyed_on,
    })


def group_record(group: Group, open_: Open) -> dict[str, Any]:
    return plain({
        "group_id": str(group.id),
        "version": group.version,
        "school_id": group.school_id,
        "kind": group.kind,
        "purpose": group.purpose,
        "service_codes": group.service_codes,
        "social_worker_id": group.social_worker_id,
        "planned_sessions": group.planned_sessions,
        "formed_on": group.formed_on,
        "status": group.status,
        "members": [{"client_id": client_id, "joined_on": joined_on}
                    for client_id, joined_on in group.members.items()],
        "sessions": [{**session, "notes": open_(session["notes"])}
                     for session in group.sessions],
        "evaluation": None if group.evaluation is None else {
            **group.evaluation, "notes": open_(group.evaluation["notes"])},
        "closed_on": group.closed_on,
    })


def letter_record(letter: Letter, open_: Open) -> dict[str, Any]:
    answer = letter.answer
    return plain({
        "letter_id": str(letter.id),
        "version": letter.version,
        "school_id": letter.school_id,
        "received_on": letter.received_on,
        "anonymous": letter.anonymous,
        "client_id": letter.client_id,
        "grade": letter.grade,
        "service_codes": letter.service_codes,
        "content": open_(letter.content),
        "answer": None if answer is None else {
            **answer, "reply": open_(answer["reply"])},  # type: ignore[arg-type]
        "opened_case_id": letter.opened_case_id,
    })


def class_record(held: ExperientialClass) -> dict[str, Any]:
    return plain({"class_id": str(held.id), "school_id": held.school_id, "theme": held.theme,
                  "topic": held.topic, "service_codes": held.service_codes,
                  "held_on": held.held_on, "attendance": held.attendance, "grade": held.grade,
                  "social_worker_id": held.social_worker_id})


def _opened(record: dict[str, Any] | None, open_: Open, *keys: str) -> dict[str, Any] | None:
    if record is None:
        return None
    return {**record, **{key: open_(record.get(key)) for key in keys}}
