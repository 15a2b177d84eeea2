"""The social-worker mailbox (8.2.2): letters in, letters out, the reply time, and the case a
letter opened. Anonymous letters are allowed; their content is sealed under a subject id of the
letter's own, a known writer's under the writer's client id (so that writer's disposal destroys
it)."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event

from contracts.errors import Conflict
from services.cases.rules import not_before
from services.runtime.domain import CasebookAggregate


class Letter(CasebookAggregate):
    @event("Received")
    def __init__(self, school_id: str, received_on: date, anonymous: bool,
                 client_id: str | None, subject_id: str, grade: int | None,
                 service_codes: list[str], content: str) -> None:
        self.school_id = school_id
        self.received_on = received_on
        self.anonymous = anonymous
        self.client_id = client_id
        self.subject_id = subject_id
        self.grade = grade
        self.service_codes = list(service_codes)
        self.content = content
        self.opened_case_id: str | None = None
        self.answer: dict[str, object] | None = None

    def link_case(self, case_id: str) -> None:
        if self.opened_case_id is not None:
            raise Conflict(f"The letter already opened case {self.opened_case_id}.",
                           code="conflict")
        self._case_opened(case_id=case_id)

    @event("CaseOpened")
    def _case_opened(self, case_id: str) -> None:
        self.opened_case_id = case_id

    def answer_with(self, answered_on: date, reply: str, answered_by: str) -> None:
        if self.answer is not None:
            raise Conflict("The letter is already answered.", code="wrong_state")
        not_before("answered_on", answered_on, self.received_on, "the letter was received")
        self._answered(answered_on=answered_on, reply=reply, answered_by=answered_by,
                       days_to_answer=(answered_on - self.received_on).days,
                       opened_case_id=self.opened_case_id)

    @event("Answered")
    def _answered(self, answered_on: date, reply: str, answered_by: str, days_to_answer: int,
                  opened_case_id: str | None) -> None:
        self.answer = {"answered_on": answered_on, "reply": reply, "answered_by": answered_by,
                       "days_to_answer": days_to_answer}
