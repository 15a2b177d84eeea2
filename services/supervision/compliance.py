"""The compliance report of one school over one period, against T/JHSX 001—2026.

Each check names its clause; each gap names the check, the clause and the record it is about
(a worker, a §7 code, an escalation, a complaint), so a school sees exactly what to fix. The
report is a snapshot: a period that has not ended is judged on what happened so far, by the
settable clock.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from itertools import pairwise
from typing import Any

from contracts.errors import InvalidInput
from contracts.taxonomy import SERVICE_CODES, SHALL_CODES
from services.runtime.clock import clock
from services.runtime.context import require_role
from services.runtime.plain import plain
from services.supervision.complaints import FeedbackDesk
from services.supervision.domain import SocialWorker, SocialWorkerEvents
from services.supervision.escalation import Escalation, EscalationEvents
from services.supervision.feedback import Complaint, ComplaintEvents
from services.supervision.oversight import OversightDesk
from services.supervision.quality import Delivery, DeliveryEvents, Finding, FindingEvents
from services.supervision.settings import CONTINUING_EDUCATION_HOURS_PER_YEAR, settings
from services.supervision.staffing import StaffDesk, training_line
from services.supervision.store import READERS, check_school_scope

CSV_COLUMNS = ("clause", "check", "met", "subject_id", "detail")


class ComplianceDesk(StaffDesk, FeedbackDesk, OversightDesk):
    def compliance_report(self, school_id: str, period_from: date,
                          period_to: date) -> dict[str, Any]:
        check_school_scope(require_role(*READERS), school_id)
        if period_to < period_from:
            raise InvalidInput.from_messages(
                {"period_to": [f"Must not be before period_from ({period_from})."]})
        school = self._school(school_id)
        workers = [w for w in self._workers_of(school_id)
                   if w.registered_on <= period_to
                   and (w.active or (w.left_on is not None and w.left_on >= period_from))]
        report = _Report(school_id, period_from, period_to)

        # 6.1.1: a service space.
        report.check("6.1.1", "service_space", {"facility_kinds": school.facility_kinds})
        if not school.has_service_space:
            report.gap("6.1.1", "service_space", None, "The school has no service space.")

        # 6.2.1.1 with 6.2.1.2: at least one qualified full-time worker.
        qualified_full_time = sorted(
            w.social_worker_id for w in workers
            if w.active and w.employment == "full_time" and not set(
                w.reasons_not_eligible()) & {"not_qualified", "no_project_experience",
                                             "no_ethics_commitment"})
        report.check("6.2.1.1", "qualified_full_time_worker",
                     {"qualified_full_time_worker_ids": qualified_full_time})
        if not qualified_full_time:
            report.gap("6.2.1.1", "qualified_full_time_worker", None,
                       "No active full-time worker meets 6.2.1.2.")

        self._training_checks(report, workers)
        self._supervision_checks(report, workers)
        self._service_code_checks(report)
        self._escalation_checks(report)
        self._complaint_checks(report)

        findings = [f for f in self._all(FindingEvents.Raised, Finding)
                    if f.school_id == school_id and period_from <= f.detected_on <= period_to]
        report.figures["quality_findings"] = {
            "raised": len(findings),
            "open": sum(1 for f in findings if f.status == "open")}
        report.figures["service_mode"] = school.service_mode
        return plain(report.as_dict())

    def compliance_report_csv(self, school_id: str, period_from: date, period_to: date) -> str:
        """The report as CSV: a row per check that is met and a row per gap."""
        report = self.compliance_report(school_id, period_from, period_to)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        gaps_by_check: dict[str, list[dict[str, Any]]] = {}
        for gap in report["gaps"]:
            gaps_by_check.setdefault(gap["check"], []).append(gap)
        for check in report["checks"]:
            gaps = gaps_by_check.get(check["check"], [])
            if not gaps:
                writer.writerow({"clause": check["clause"], "check": check["check"],
                                 "met": "yes", "subject_id": "", "detail": ""})
            for gap in gaps:
                writer.writerow({"clause": gap["clause"], "check": gap["check"], "met": "no",
                                 "subject_id": gap["subject_id"] or "", "detail": gap["detail"]})
        return out.getvalue()

    # Read models, for `casebook rebuild`.

    def read_models(self) -> dict[str, Any]:
        """What supervision derives from its log: each worker's eligibility and supervisor
        (6.2.1.2, 6.2.2.1, 9.1a), escalations by level and state (9.6b), open findings by
        control point (9.5c), complaints by state (10.1.2). Identifiers, codes and counts
        only; a complaint's content and contact stay sealed."""
        escalations: dict[str, dict[str, list[str]]] = {}
        for escalation in self._all(EscalationEvents.Opened, Escalation):
            by_state = escalations.setdefault(escalation.level, {})
            by_state.setdefault(escalation.summary()["status"], []).append(str(escalation.id))
        findings: dict[str, list[str]] = {}
        for finding in self._all(FindingEvents.Raised, Finding):
            if finding.status != "addressed":
                findings.setdefault(finding.control_point, []).append(str(finding.id))
        complaints: dict[str, list[str]] = {}
        for complaint in self._all(ComplaintEvents.Received, Complaint):
            state = ("answered" if complaint.answer is not None
                     else "acknowledged" if complaint.steps else "received")
            complaints.setdefault(state, []).append(complaint.complaint_id)
        return plain({
            "eligibility": {
                w.social_worker_id: {"eligible": bool(w.eligible), "reasons": w.ineligibility,
                                     "supervisor_id": w.supervisor_id,
                                     "school_ids": sorted(w.school_ids)}
                for w in sorted(self._all(SocialWorkerEvents.Registered, SocialWorker),
                                key=lambda w: w.social_worker_id)},
            "escalations_by_level_and_state": {
                level: _sorted_groups(by_state)
                for level, by_state in sorted(escalations.items())},
            "open_findings_by_control_point": _sorted_groups(findings),
            "complaints_by_state": _sorted_groups(complaints),
        })

    def _training_checks(self, report: _Report, workers: list[SocialWorker]) -> None:
        # 9.1a pre-job training; 9.1b 36 hours of continuing education each calendar year.
        report.check("9.1a", "pre_job_training", {})
        report.check("9.1b", "continuing_education_hours", {})
        lines = []
        for worker in workers:
            if not worker.pre_job_trained:
                report.gap("9.1a", "pre_job_training", worker.social_worker_id,
                           "No pre-job training recorded.")
            for year in range(report.period_from.year, report.period_to.year + 1):
                line = training_line(worker, year)
                lines.append(line)
                if line["below_minimum"]:
                    report.gap("9.1b", "continuing_education_hours", worker.social_worker_id,
                               f"{year}: {line['continuing_hours']:g} of "
                               f"{CONTINUING_EDUCATION_HOURS_PER_YEAR} hours, "
                               f"{line['hours_missing']:g} missing.")
        report.figures["training"] = lines

    def _supervision_checks(self, report: _Report, workers: list[SocialWorker]) -> None:
        # 9.1c regular supervision: no stretch longer than the configured interval.
        interval = settings().supervision_interval_days
        report.check("9.1c", "supervision_interval", {"interval_days": interval})
        sessions = self.sessions_by_worker()
        end = min(report.period_to, clock.today())
        lines = []
        for worker in workers:
            held = sorted(s["held_on"] for s in sessions.get(worker.social_worker_id, []))
            start = max(report.period_from, worker.registered_on)
            before = [d for d in held if d <= start]
            marks = [before[-1] if before else start,
                     *(d for d in held if start < d <= end), end]
            longest = max((b - a).days for a, b in pairwise(marks))
            in_period = [s for s in sessions.get(worker.social_worker_id, [])
                         if report.period_from <= s["held_on"] <= report.period_to]
            kinds = sorted({k for s in in_period for k in s["kinds"]})
            lines.append({"social_worker_id": worker.social_worker_id,
                          "sessions": len(in_period), "longest_days_without": longest,
                          "kinds": kinds})
            if longest > interval:
                report.gap("9.1c", "supervision_interval", worker.social_worker_id,
                           f"{longest} days without supervision (limit {interval}).")
        report.figures["supervision"] = lines

    def _service_code_checks(self, report: _Report) -> None:
        # §7: which "shall" service codes the school delivered in the period.
        delivered = sorted({
            code for d in self._all(DeliveryEvents.Noted, Delivery)
            if d.school_id == report.school_id
            and report.period_from <= d.delivered_on <= report.period_to
            for code in d.service_codes})
        report.check("7", "shall_services_delivered", {"delivered_codes": delivered})
        for item in SERVICE_CODES:
            if item.code not in SHALL_CODES or item.code in delivered:
                continue
            report.gap("7", "shall_services_delivered", item.code,
                       f"Not delivered: {item.label_zh} / {item.label_en}")

    def _escalation_checks(self, report: _Report) -> None:
        # 9.6b: each escalation acknowledged at its first step within its time limit.
        now = clock.now()
        opened = [e for e in self._all(EscalationEvents.Opened, Escalation)
                  if e.school_id == report.school_id
                  and report.period_from <= e.opened_at.date() <= report.period_to]
        report.check("9.6b", "escalations_acknowledged_in_time", {"escalations": len(opened)})
        for escalation in opened:
            ack = escalation.acknowledgement
            closed_at = escalation.resolution["resolved_at"] if escalation.resolution else None
            if ack is not None and not ack["in_time"]:
                detail = f"Acknowledged late, at step {ack['step']}."
            elif ack is None and closed_at is None and now > escalation.first_due_at:
                detail = f"Not acknowledged; now waiting for {escalation.role}."
            elif ack is None and closed_at is not None and closed_at > escalation.first_due_at:
                detail = "Closed without acknowledgement after its time limit."
            else:
                continue
            report.gap("9.6b", "escalations_acknowledged_in_time", str(escalation.id), detail)

    def _complaint_checks(self, report: _Report) -> None:
        # 9.2c, 10.1.2: complaints answered within their time limit.
        today = clock.today()
        received = [c for c in self._complaints(report.school_id)
                    if report.period_from <= c.received_on <= report.period_to]
        report.check("10.1.2", "complaints_answered_in_time", {"complaints": len(received)})
        for complaint in received:
            if complaint.answered_in_time(today) is False:
                detail = ("Answered late." if complaint.answer is not None
                          else f"Not answered; due {complaint.answer_by}.")
                report.gap("10.1.2", "complaints_answered_in_time", complaint.complaint_id,
                           detail)


class _Report:
    def __init__(self, school_id: str, period_from: date, period_to: date) -> None:
        self.school_id = school_id
        self.period_from = period_from
        self.period_to = period_to
        self.checks: list[dict[str, Any]] = []
        self.gaps: list[dict[str, Any]] = []
        self.figures: dict[str, Any] = {}

    def check(self, clause: str, check: str, figures: dict[str, Any]) -> None:
        self.checks.append({"clause": clause, "check": check, **figures})

    def gap(self, clause: str, check: str, subject_id: str | None, detail: str) -> None:
        self.gaps.append({"clause": clause, "check": check, "subject_id": subject_id,
                          "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        failed = {g["check"] for g in self.gaps}
        return {
            "school_id": self.school_id,
            "period_from": self.period_from,
            "period_to": self.period_to,
            "generated_at": clock.now(),
            "compliant": not self.gaps,
            "checks": [{**c, "met": c["check"] not in failed} for c in self.checks],
            "gaps": self.gaps,
            "figures": self.figures,
        }


def _sorted_groups(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: sorted(ids) for key, ids in sorted(groups.items())}
