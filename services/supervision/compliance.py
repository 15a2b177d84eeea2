"""The compliance report of one school over one period, against T/JHSX 001—2026, from the
views' rows and aggregates.

Each check names its clause; each gap names the check, the clause and the record it is about
(a worker, a §7 code, an escalation, a complaint), so a school sees exactly what to fix. The
report is a snapshot: a period that has not ended is judged on what happened so far, by the
settable clock.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from contracts.taxonomy import SERVICE_CODES, SHALL_CODES
from services.runtime.clock import local_date
from services.runtime.settings import Supervision as Settings
from services.supervision.views import SupervisionViews

# 9.1b: "每年应接受不少于 36 个学时的继续教育" — fixed by the standard, not a setting.
CONTINUING_EDUCATION_MINUTES_PER_YEAR = 36 * 60
# 6.2.1.2: what a worker's qualification lacks, apart from training and being active.
QUALIFICATION_GAPS = {"not_qualified", "no_project_experience", "no_ethics_commitment"}
CSV_COLUMNS = ("clause", "check", "met", "subject_id", "detail")


def training_line(line: dict[str, Any]) -> dict[str, Any]:
    """A worker's year of training (9.1a, 9.1b), with what is missing of the 36 hours."""
    minutes = line["continuing_minutes"]
    return {**line,
            "minutes_missing": max(0, CONTINUING_EDUCATION_MINUTES_PER_YEAR - minutes),
            "below_minimum": minutes < CONTINUING_EDUCATION_MINUTES_PER_YEAR}


class Report:
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

    def as_dict(self, now: datetime) -> dict[str, Any]:
        failed = {g["check"] for g in self.gaps}
        return {
            "school_id": self.school_id,
            "period_from": self.period_from,
            "period_to": self.period_to,
            "generated_at": now,
            "compliant": not self.gaps,
            "checks": [{**c, "met": c["check"] not in failed} for c in self.checks],
            "gaps": self.gaps,
            "figures": self.figures,
        }


def compliance_report(views: SupervisionViews, school: dict[str, Any], period_from: date,
                      period_to: date, settings: Settings, now: datetime) -> dict[str, Any]:
    school_id = school["school_id"]
    report = Report(school_id, period_from, period_to)
    workers = views.staff_in_period(school_id, period_from, period_to)

    # 6.1.1: a service space.
    report.check("6.1.1", "service_space", {"facility_kinds": school["facility_kinds"]})
    if not school["has_service_space"]:
        report.gap("6.1.1", "service_space", None, "The school has no service space.")

    # 6.2.1.1 with 6.2.1.2: at least one qualified full-time worker.
    qualified_full_time = sorted(
        w["social_worker_id"] for w in workers
        if w["active"] and w["employment"] == "full_time"
        and not set(w["ineligibility"]) & QUALIFICATION_GAPS)
    report.check("6.2.1.1", "qualified_full_time_worker",
                 {"qualified_full_time_worker_ids": qualified_full_time})
    if not qualified_full_time:
        report.gap("6.2.1.1", "qualified_full_time_worker", None,
                   "No active full-time worker meets 6.2.1.2.")

    _training_checks(views, report, workers)
    _supervision_checks(views, report, workers, settings, local_date(now))
    _service_code_checks(views, report)
    _escalation_checks(views, report, now)
    _complaint_checks(views, report, local_date(now))

    report.figures["quality_findings"] = views.findings_in_period(school_id, period_from,
                                                                  period_to)
    report.figures["service_mode"] = school["service_mode"]
    return report.as_dict(now)


def _training_checks(views: SupervisionViews, report: Report,
                     workers: list[dict[str, Any]]) -> None:
    # 9.1a pre-job training; 9.1b 36 hours of continuing education each calendar year.
    report.check("9.1a", "pre_job_training", {})
    report.check("9.1b", "continuing_education_hours", {})
    ids = {w["social_worker_id"] for w in workers}
    years = range(report.period_from.year, report.period_to.year + 1)
    lines = [training_line(line) for line in views.training_lines(report.school_id, years,
                                                                  active_only=False)
             if line["social_worker_id"] in ids]
    for worker in workers:
        if not worker["pre_job_trained"]:
            report.gap("9.1a", "pre_job_training", worker["social_worker_id"],
                       "No pre-job training recorded.")
    for line in lines:
        if line["below_minimum"]:
            report.gap("9.1b", "continuing_education_hours", line["social_worker_id"],
                       f"{line['year']}: {line['continuing_minutes']} of "
                       f"{CONTINUING_EDUCATION_MINUTES_PER_YEAR} minutes, "
                       f"{line['minutes_missing']} missing.")
    report.figures["training"] = lines


def _supervision_checks(views: SupervisionViews, report: Report,
                        workers: list[dict[str, Any]], settings: Settings,
                        today: date) -> None:
    # 9.1c regular supervision: no stretch longer than the configured interval.
    interval = settings.supervision_interval_days
    report.check("9.1c", "supervision_interval", {"interval_days": interval})
    held_by = views.session_dates(report.school_id, report.period_to)
    kinds_by = views.session_kinds(report.school_id, report.period_from, report.period_to)
    end = min(report.period_to, today)
    lines = []
    for worker in workers:
        worker_id = worker["social_worker_id"]
        held = [date.fromisoformat(d) for d in held_by.get(worker_id, [])]
        start = max(report.period_from, date.fromisoformat(worker["registered_on"]))
        before = [d for d in held if d <= start]
        marks = [before[-1] if before else start, *(d for d in held if start < d <= end), end]
        longest = max((b - a).days for a, b in pairwise(marks))
        kinds = kinds_by.get(worker_id, {})
        lines.append({"social_worker_id": worker_id, "sessions": kinds.get("sessions", 0),
                      "longest_days_without": longest,
                      "kinds": sorted(k for k, n in kinds.items() if k != "sessions" and n)})
        if longest > interval:
            report.gap("9.1c", "supervision_interval", worker_id,
                       f"{longest} days without supervision (limit {interval}).")
    report.figures["supervision"] = lines


def _service_code_checks(views: SupervisionViews, report: Report) -> None:
    # §7: which "shall" service codes the school delivered in the period.
    delivered = views.delivered_codes(report.school_id, report.period_from, report.period_to)
    report.check("7", "shall_services_delivered", {"delivered_codes": delivered})
    for item in SERVICE_CODES:
        if item.code not in SHALL_CODES or item.code in delivered:
            continue
        report.gap("7", "shall_services_delivered", item.code,
                   f"Not delivered: {item.label_zh} / {item.label_en}")


def _escalation_checks(views: SupervisionViews, report: Report, now: datetime) -> None:
    # 9.6b: each escalation acknowledged at its first step within its time limit.
    opened = views.escalations_opened(report.school_id, report.period_from, report.period_to)
    report.check("9.6b", "escalations_acknowledged_in_time", {"escalations": len(opened)})
    for escalation in opened:
        first_due_at = datetime.fromisoformat(escalation["first_due_at"])
        closed_at = escalation["resolved_at"]
        if escalation["acknowledged_at"] is not None:
            if escalation["acknowledged_in_time"]:
                continue
            detail = f"Acknowledged late, at step {escalation['acknowledged_step']}."
        elif closed_at is None and now > first_due_at:
            detail = f"Not acknowledged; now waiting for {escalation['role']}."
        elif closed_at is not None and datetime.fromisoformat(closed_at) > first_due_at:
            detail = "Closed without acknowledgement after its time limit."
        else:
            continue
        report.gap("9.6b", "escalations_acknowledged_in_time", escalation["escalation_id"],
                   detail)


def _complaint_checks(views: SupervisionViews, report: Report, today: date) -> None:
    # 9.2c, 10.1.2: complaints answered within their time limit.
    received = views.complaints_received(report.school_id, report.period_from,
                                         report.period_to, today)
    report.check("10.1.2", "complaints_answered_in_time", {"complaints": len(received)})
    for complaint in received:
        if complaint["answered_in_time"] is not None and not complaint["answered_in_time"]:
            detail = ("Answered late." if complaint["answered_on"] is not None
                      else f"Not answered; due {complaint['answer_by']}.")
            report.gap("10.1.2", "complaints_answered_in_time", complaint["complaint_id"],
                       detail)


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: a row per check that is met and a row per gap."""
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
