"""Group work (8.2.1.3), the social-worker mailbox (8.2.2) and experiential classes (8.2.3): the
commands and reads of the cases application that are not about one case."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.errors import InvalidInput, NotAllowed
from services.cases.access import CASE_WRITERS, CasesBase, check_school, school_in_scope
from services.cases.classes import ExperientialClass
from services.cases.groups import Group
from services.cases.mailbox import Letter
from services.runtime.context import require_role
from services.runtime.plain import plain


def group_subject(group_id: str) -> str:
    """Session notes speak of several members at once: they are sealed under the group."""
    return f"group:{group_id}"


class Activities(CasesBase):
    # Group work (8.2.1.3).

    def form_group(self, kind: str, purpose: str, service_codes: list[str],
                   social_worker_id: str, planned_sessions: int, formed_on: date,
                   school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        if social_worker_id != actor.id and not self._in_charge(actor, social_worker_id):
            raise NotAllowed("A social worker forms groups they lead themselves; a supervisor "
                             "groups they or their supervisees lead (6.2.2.1).")
        group = Group(school_id=school, kind=kind, purpose=purpose, service_codes=service_codes,
                      social_worker_id=social_worker_id, planned_sessions=planned_sessions,
                      formed_on=formed_on)
        self._save(group)
        return str(group.id)

    def add_group_member(self, group_id: str, client_id: str, joined_on: date) -> None:
        group = self._group(group_id)
        client = self._client(client_id)
        if client.school_id != group.school_id:
            raise InvalidInput.from_messages(
                {"client_id": ["The client belongs to another school."]}
            )
        group.add_member(client_id, joined_on)
        self._save(group)

    def hold_group_session(self, group_id: str, held_on: date, attended: list[str],
                           notes: str | None = None) -> int:
        group = self._group(group_id)
        group.hold_session(held_on, attended, self._seal(group_subject(group_id), notes))
        self._save(group)
        return len(group.sessions)

    def evaluate_group(self, group_id: str, evaluated_on: date, goal_attainment: list[int],
                       notes: str | None = None) -> None:
        group = self._group(group_id)
        group.evaluate(evaluated_on, goal_attainment, self._seal(group_subject(group_id), notes))
        self._save(group)

    def close_group(self, group_id: str, closed_on: date) -> None:
        group = self._group(group_id)
        group.close(closed_on)
        self._save(group)

    def get_group(self, group_id: str) -> dict[str, Any]:
        group = self._group(group_id)
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
            "sessions": [{**session, "notes": self._open(session["notes"])}
                         for session in group.sessions],
            "evaluation": None if group.evaluation is None else {
                **group.evaluation, "notes": self._open(group.evaluation["notes"])},
            "closed_on": group.closed_on,
        })

    def _group(self, group_id: str) -> Group:
        actor = require_role(*CASE_WRITERS)
        group = self.get_aggregate(Group, group_id, "group")
        check_school(actor, group, "group")
        if group.social_worker_id != actor.id:
            self._require_in_charge(actor, group.social_worker_id, "group")
        return group

    # Mailbox (8.2.2).

    def receive_letter(self, received_on: date, content: str, anonymous: bool = False,
                       client_id: str | None = None, grade: int | None = None,
                       service_codes: list[str] | None = None,
                       school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        if anonymous and client_id:
            raise InvalidInput.from_messages(
                {"client_id": ["An anonymous letter names no client."]}
            )
        if client_id:
            check_school(actor, self._client(client_id), "client")
        # An anonymous letter's content is sealed under a subject of its own.
        subject_id = client_id or f"letter:{uuid.uuid4()}"
        letter = Letter(school_id=school, received_on=received_on, anonymous=anonymous,
                        client_id=client_id, subject_id=subject_id, grade=grade,
                        service_codes=service_codes or [],
                        content=self.vault.seal(subject_id, content))
        self._save(letter)
        return str(letter.id)

    def answer_letter(self, letter_id: str, answered_on: date, reply: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS)
        letter = self.get_aggregate(Letter, letter_id, "letter")
        check_school(actor, letter, "letter")
        letter.answer_with(answered_on, self.vault.seal(letter.subject_id, reply), actor.id)
        self._save(letter)
        return {"letter_id": str(letter.id), "days_to_answer": letter.answer["days_to_answer"]
                if letter.answer else None}

    def get_letter(self, letter_id: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS)
        letter = self.get_aggregate(Letter, letter_id, "letter")
        check_school(actor, letter, "letter")
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
            "content": self._open(letter.content),
            "answer": None if answer is None else {
                **answer, "reply": self._open(answer["reply"])},  # type: ignore[arg-type]
            "opened_case_id": letter.opened_case_id,
        })

    # Experiential classes (8.2.3).

    def hold_class(self, theme: str, topic: str, service_codes: list[str], held_on: date,
                   attendance: int, grade: int | None = None,
                   school_id: str | None = None) -> str:
        actor = require_role(*CASE_WRITERS)
        school = school_in_scope(actor, school_id)
        held = ExperientialClass(school_id=school, theme=theme, topic=topic,
                                 service_codes=service_codes, held_on=held_on,
                                 attendance=attendance, grade=grade, social_worker_id=actor.id)
        self._save(held)
        return str(held.id)

    def get_class(self, class_id: str) -> dict[str, Any]:
        actor = require_role(*CASE_WRITERS, "school_admin", "auditor")
        held = self.get_aggregate(ExperientialClass, class_id, "class")
        check_school(actor, held, "class")
        return plain({"class_id": str(held.id), "school_id": held.school_id, "theme": held.theme,
                "topic": held.topic, "service_codes": held.service_codes,
                "held_on": held.held_on, "attendance": held.attendance, "grade": held.grade,
                "social_worker_id": held.social_worker_id})
