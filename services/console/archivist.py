"""The archivist's pages: archive files by category and retention due (9.4a, 9.4e), one file with
its contents index (9.4b), retention, legal holds and access report; access requests decided by
someone other than the requester and grants revoked (9.4d); disposals requested by the archivist
and decided by a second person (9.4e); a file printed as PDF with its unified code and contents
index (9.4)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from contracts.events.archive import (
    DENIAL_REASONS,
    DISPOSAL_REJECTIONS,
    FILE_CATEGORIES,
    HOLD_AUTHORITIES,
    REVOCATION_REASONS,
)
from services.archive.app import (
    ACCESS_APPROVERS,
    DISPOSAL_APPROVERS,
    DISPOSAL_REQUESTERS,
    GRANT_REVOKERS,
    HOLD_KEEPERS,
)
from services.archive.schemas import (
    ACCESS_STATUSES,
    DISPOSAL_STATUSES,
    FILE_STATUSES,
    READ_OUTCOMES,
)
from services.console import forms
from services.console.auditor import POINT, as_fields, point_query
from services.console.forms import Field
from services.console.i18n import FILE_SECTIONS, N_, Localized, Message
from services.console.web import (
    Problem,
    Refused,
    Section,
    Visit,
    carry_out,
    form_of,
    nav,
    page,
    sent_back,
)

LIST_PAGE = 20
READS_PAGE = 20
# Adobe's CID font for Simplified Chinese: every PDF reader has it, so no font file is bundled
# or embedded, and it has the Latin letters and digits of a unified code too.
PDF_FONT = "STSong-Light"

nav(N_("Archive files"), "/archive/files", "archivist")
nav(N_("Access requests"), "/archive/access-requests", "archivist")
nav(N_("Disposals"), "/archive/disposals", "archivist")
nav(N_("File reads"), "/archive/reads", "archivist")

# The states of the archive's records, as its lists filter and show them.
STATES: dict[str, str] = {
    "pending": N_("Awaiting a decision"),
    "approved": N_("Approved"),
    "denied": N_("Denied"),
    "revoked": N_("Revoked"),
    "rejected": N_("Rejected"),
    "requested": N_("Asked for"),
    # Why a read was refused (4.5).
    "no_grant": N_("no approved grant"),
    "grant_expired": N_("the grant had expired"),
    "grant_revoked": N_("the grant was revoked"),
    "file_disposed": N_("the file was disposed"),
}
# The archive's own refusals, which the shared catalog of problems does not name.
ARCHIVE_PROBLEMS: dict[str, str] = {
    "two_person_rule": N_("The person who asked cannot decide: another person must "
                          "(two-person rule, 9.4d, 9.4e)."),
    "retention_not_expired": N_("The file's retention period has not ended (9.4e)."),
    "legal_hold": N_("The file is under a legal hold: lift it before disposal (9.4e)."),
}
# The published events a file indexes: as the case timeline names them where it has them.
TIMELINE_NAMES = {"CaseOpened": "Opened", "IntakeCompleted": "IntakeAccepted",
                  "CaseClosed": "Closed", "CaseReopened": "Reopened",
                  "CaseReassigned": "Reassigned"}
ENTRY_TYPES: dict[str, str] = {
    "RiskEscalated": N_("Risk escalated (9.6b)"),
    "LifeSafetyDisclosureRecorded": N_("Disclosure to protect life or safety (4.1)"),
    "GroupFormed": N_("Group formed (8.2.1.3)"),
    "GroupMemberAdded": N_("Group member added"),
    "GroupSessionHeld": N_("Group session held"),
    "GroupEvaluated": N_("Group evaluated"),
    "GroupClosed": N_("Group closed"),
    "LetterReceived": N_("Letter received (8.2.2)"),
    "LetterAnswered": N_("Letter answered (8.2.2)"),
    "ClassHeld": N_("Class held (8.2.3)"),
}

FILE_FILTERS = (
    Field("category", N_("Category (9.4a)"), "select", FILE_CATEGORIES),
    Field("status", N_("File state"), "select", FILE_STATUSES),
    Field("due_within_days", N_("Retention ends within (days)"), "int",
          hint=N_("For example 365: the files whose retention ends within a year (9.4e).")),
    Field("legal_hold", N_("Only files under a legal hold"), "bool"),
    Field("incomplete_only", N_("Only incomplete files (9.4b)"), "bool"),
)
READ_FILTERS = (
    Field("reader_id", N_("Read by"), hint=N_("A staff id, as the reads list it.")),
)
PLACE_HOLD = (
    Field("hold_id", N_("Hold number"), required=True,
          default=lambda: f"LH-{uuid.uuid4().hex[:8]}"),
    Field("authority", N_("Authority"), "select", HOLD_AUTHORITIES, required=True),
    Field("reference", N_("The authority's reference"), required=True,
          hint=N_("For example the court's case number.")),
)
REQUEST_ACCESS = (
    Field("purpose", N_("Purpose"), "textarea", required=True,
          hint=N_("Why you need to read it: 10 to 2000 characters.")),
    Field("duration_hours", N_("For how many hours"), "int", required=True),
)
APPROVE = (
    Field("valid_hours", N_("Valid for (hours)"), "int",
          hint=N_("At most the hours requested; left empty, as requested.")),
)
DENY = (Field("reason_code", N_("Reason"), "select", DENIAL_REASONS, required=True),)
REVOKE = (Field("reason_code", N_("Reason"), "select", REVOCATION_REASONS, required=True),)
REJECT_DISPOSAL = (
    Field("reason_code", N_("Reason"), "select", DISPOSAL_REJECTIONS, required=True),
)


# Files (9.4a–c, 9.4e).


@page("/archive/files")
def files(visit: Visit) -> Response:
    args = visit.request.args
    query = _file_query(args)
    values = forms.values(FILE_FILTERS, args)
    found, problem = _filtered(visit, "/files", FILE_FILTERS, query, LIST_PAGE)
    more = urlencode({**query, "after": found["next"]}) if found["next"] else None
    return visit.render("archivist_files.html", 400 if problem else 200, page=found,
                        filters=FILE_FILTERS, values=values, problem=problem, more=more,
                        state=_state(visit.text),
                        first=urlencode(query) if args.get("after") else None)


def _filtered(visit: Visit, route: str, filters: tuple[Field, ...], query: Mapping[str, Any],
              limit: int) -> tuple[dict[str, Any], Problem | None]:
    """A page of a list by the filters the person chose, from the page's `after`; a filter the
    archive refuses is an empty page and the problem, to show beside its field."""
    try:
        found = visit.api.get(route, **query, after=visit.request.args.get("after"), limit=limit)
    except Refused as refusal:
        if refusal.status != 400:
            raise
        return {"items": [], "total": 0, "next": None}, _problem(refusal, filters)
    return found, None


def _file_query(args: MultiDict[str, str]) -> dict[str, str]:
    """The list's filters as the /files route takes them; a box left unticked filters
    nothing (not "files without a hold")."""
    query = {name: args.get(name, "").strip()
             for name in ("category", "status", "due_within_days")}
    for flag in ("legal_hold", "incomplete_only"):
        if args.get(flag):
            query[flag] = "true"
    return {name: value for name, value in query.items() if value}


@page("/archive/files/<file_id>")
def archive_file(visit: Visit, file_id: str) -> Response:
    return _file_page(visit, file_id, None)


@page("/archive/files/<file_id>/legal-holds", "POST")
def place_hold(visit: Visit, file_id: str) -> Response:
    body = forms.payload(PLACE_HOLD, visit.request.form)
    return _file_command(visit, file_id, "legal-holds", body, PLACE_HOLD, "hold")


@page("/archive/files/<file_id>/legal-holds/<hold_id>/lifting", "POST")
def lift_hold(visit: Visit, file_id: str, hold_id: str) -> Response:
    return _file_command(visit, file_id, f"legal-holds/{hold_id}/lifting", {}, (), "lift")


@page("/archive/files/<file_id>/disposal-request", "POST")
def request_disposal(visit: Visit, file_id: str) -> Response:
    return _file_command(visit, file_id, "disposal-request", {}, (), "disposal")


@page("/archive/files/<file_id>/disposal-approval", "POST")
def approve_disposal(visit: Visit, file_id: str) -> Response:
    return _file_command(visit, file_id, "disposal-approval", {}, (), "disposal")


@page("/archive/files/<file_id>/disposal-rejection", "POST")
def reject_disposal(visit: Visit, file_id: str) -> Response:
    body = forms.payload(REJECT_DISPOSAL, visit.request.form)
    return _file_command(visit, file_id, "disposal-rejection", body, REJECT_DISPOSAL,
                         "reject")


@page("/archive/files/<file_id>/access-requests", "POST")
def request_access(visit: Visit, file_id: str) -> Response:
    body = forms.payload(REQUEST_ACCESS, visit.request.form)
    return _file_command(
        visit, file_id, "access-requests", body, REQUEST_ACCESS, "access",
        lambda answer: f"/archive/files/{file_id}/access-requests/{answer['request_id']}")


def _file_command(visit: Visit, file_id: str, path: str, body: dict[str, Any],
                  fields: tuple[Field, ...], name: str,
                  done: Callable[[Any], str] | None = None) -> Response:
    """Carry out a command on the file, then show the file (or what `done` names from the
    answer); refused, the file's page again with the form as it was sent and the reasons
    beside its fields."""
    return carry_out(
        visit, f"/files/{file_id}/{path}", body,
        lambda refusal: _file_page(visit, file_id, _sent(visit, refusal, fields, name),
                                   refusal.status),
        done or f"/archive/files/{file_id}", answerable=_shown_on_form)


def _file_page(visit: Visit, file_id: str, sent: Section | None, status: int = 200) -> Response:
    """The file now, with its forms; the file as it was at a point when one is asked for; and
    who asked to read it and who read it or was refused (9.4d)."""
    record = visit.api.get(f"/files/{file_id}")
    report = visit.api.get(f"/files/{file_id}/access-report")
    args = visit.request.args
    outcome = args.get("reads") if args.get("reads") in READ_OUTCOMES else None
    reads = visit.api.get("/file-reads", file_id=file_id, outcome=outcome,
                          after=args.get("reads_after"), limit=READS_PAGE)
    # The reads' purposes are sealed (9.4d): the access report is what opens them.
    purposes = {read["read_id"]: read["purpose"] for read in report["reads"]}
    then, point, refused = _then(visit, record)
    status = refused if status == 200 else status
    actor = visit.actor

    def form(name: str, fields: tuple[Field, ...]) -> Section:
        return form_of(sent, name, fields)

    disposal = record["disposal"] or {}
    return visit.render(
        "archivist_file.html", status, file=record, report=report, sections=FILE_SECTIONS,
        entry_label=lambda type_: entry_label(visit.text, type_), state=_state(visit.text),
        sent=sent, hold=form("hold", PLACE_HOLD), hold_fields=PLACE_HOLD,
        access=form("access", REQUEST_ACCESS), access_fields=REQUEST_ACCESS,
        reject=form("reject", REJECT_DISPOSAL), reject_fields=REJECT_DISPOSAL,
        may_hold=actor.role in HOLD_KEEPERS and record["status"] != "disposed",
        may_request_disposal=(actor.role in DISPOSAL_REQUESTERS and not disposal
                              and record["status"] == "closed"),
        may_decide_disposal=(actor.role in DISPOSAL_APPROVERS and bool(disposal)
                             and "approved_by" not in disposal
                             and disposal.get("requested_by") != actor.id),
        may_request_access=record["status"] != "disposed",
        reads=reads, reads_outcome=outcome, purposes=purposes,
        reads_more=urlencode({**({"reads": outcome} if outcome else {}),
                              "reads_after": reads["next"]}) if reads["next"] else None,
        then=then, point_fields=POINT, point=point,
        point_values=forms.values(POINT, args if _point_asked(args) else None))


@page("/archive/reads")
def reads(visit: Visit) -> Response:
    """Every read of an archived file's personal content and every refused read, across the
    files (4.5, 9.4d): by outcome and by reader, in order, each linked to its file. The
    purposes are sealed: each file's page opens its own, from its access report."""
    args = visit.request.args
    query = {"outcome": args.get("outcome") if args.get("outcome") in READ_OUTCOMES else None,
             "reader_id": args.get("reader_id", "").strip() or None}
    shown = {name: value for name, value in query.items() if value}
    found, problem = _filtered(visit, "/file-reads", READ_FILTERS, query, READS_PAGE)
    more = urlencode({**shown, "after": found["next"]}) if found["next"] else None
    return visit.render(
        "archivist_reads.html", 400 if problem else 200, page=found, filters=READ_FILTERS,
        values=forms.values(READ_FILTERS, args), problem=problem, state=_state(visit.text),
        outcome=query["outcome"], by_reader=urlencode(
            {"reader_id": query["reader_id"]} if query["reader_id"] else {}),
        more=more, first=urlencode(shown) if args.get("after") else None)


def _point_asked(args: MultiDict[str, str]) -> bool:
    return "position" in args or "at" in args


def _then(visit: Visit, record: dict[str, Any]
          ) -> tuple[dict[str, Any] | None, Problem | None, int]:
    """The file as it was at the point the page's as-of form asks for (a position of its
    record's source in the ledger, or a time), read with the archive's as-of route as the
    auditor's record page reads it; or why the point is refused, and the page's status."""
    args = visit.request.args
    if not _point_asked(args):
        return None, None, 200
    query, problem = point_query(args, record["record_source"])
    if problem is not None:
        return None, problem, 400
    try:
        then: dict[str, Any] = visit.api.get(f"/files/{record['file_id']}/as-of", **query)
    except Refused as refusal:
        if refusal.status not in (400, 404):
            raise
        return None, Problem.of(as_fields(refusal.problem), POINT), refusal.status
    return then, None, 200


def entry_label(text: Localized, type_: str) -> str:
    """A contents index entry by what happened: the case timeline's name where it has one."""
    if type_ in ENTRY_TYPES:
        return text.gettext(ENTRY_TYPES[type_])
    short = TIMELINE_NAMES.get(type_, type_)
    return text.event(short)


# Access requests and grants (9.4d).


@page("/archive/access-requests")
def access_requests(visit: Visit) -> Response:
    return _by_decision(visit, "/access-requests", ACCESS_STATUSES, "archivist_requests.html")


@page("/archive/files/<file_id>/access-requests/<request_id>")
def access_request(visit: Visit, file_id: str, request_id: str) -> Response:
    return _request_page(visit, file_id, request_id, None)


@page("/archive/files/<file_id>/access-requests/<request_id>/approval", "POST")
def approve_access(visit: Visit, file_id: str, request_id: str) -> Response:
    body = forms.payload(APPROVE, visit.request.form)
    return _request_command(visit, file_id, request_id, f"/access-requests/{request_id}/approval",
                            body, APPROVE, "approve")


@page("/archive/files/<file_id>/access-requests/<request_id>/denial", "POST")
def deny_access(visit: Visit, file_id: str, request_id: str) -> Response:
    body = forms.payload(DENY, visit.request.form)
    return _request_command(visit, file_id, request_id, f"/access-requests/{request_id}/denial",
                            body, DENY, "deny")


@page("/archive/files/<file_id>/access-requests/<request_id>/revocation", "POST")
def revoke_access(visit: Visit, file_id: str, request_id: str) -> Response:
    body = forms.payload(REVOKE, visit.request.form)
    return _request_command(visit, file_id, request_id,
                            f"/access-grants/{request_id}/revocation", body, REVOKE, "revoke")


def _request_command(visit: Visit, file_id: str, request_id: str, path: str,
                     body: dict[str, Any], fields: tuple[Field, ...], name: str) -> Response:
    return carry_out(
        visit, path, body,
        lambda refusal: _request_page(visit, file_id, request_id,
                                      _sent(visit, refusal, fields, name), refusal.status),
        f"/archive/files/{file_id}/access-requests/{request_id}", answerable=_shown_on_form)


def _sent(visit: Visit, refusal: Refused, fields: tuple[Field, ...], name: str) -> Section:
    return sent_back(visit, Section(fields, name=name), _problem(refusal, fields))


def _request_page(visit: Visit, file_id: str, request_id: str, sent: Section | None,
                  status: int = 200) -> Response:
    """One request, from its file's access report (which has the requester's purpose)."""
    report = visit.api.get(f"/files/{file_id}/access-report")
    chosen = next((item for item in report["requests"] if item["request_id"] == request_id),
                  None)
    if chosen is None:
        raise Refused(404, {"code": "not_found", "detail": f"No request {request_id}."})
    actor = visit.actor

    def form(name: str, fields: tuple[Field, ...]) -> Section:
        return form_of(sent, name, fields)

    pending = chosen["status"] == "pending"
    return visit.render(
        "archivist_request.html", status, item=chosen, report=report, file_id=file_id,
        state=_state(visit.text), sent=sent,
        approve=form("approve", APPROVE), approve_fields=APPROVE,
        deny=form("deny", DENY), deny_fields=DENY,
        revoke=form("revoke", REVOKE), revoke_fields=REVOKE,
        # 9.4d: whoever asked cannot decide; the page says so rather than offer the forms.
        own=chosen["requester_id"] == actor.id,
        may_decide=pending and actor.role in ACCESS_APPROVERS
        and chosen["requester_id"] != actor.id,
        may_revoke=chosen["status"] == "approved" and actor.role in GRANT_REVOKERS)


# Disposal (9.4e).


@page("/archive/disposals")
def disposals(visit: Visit) -> Response:
    return _by_decision(visit, "/disposal-requests", DISPOSAL_STATUSES,
                        "archivist_disposals.html")


def _by_decision(visit: Visit, route: str, statuses: tuple[str, ...],
                 template: str) -> Response:
    """A page of requests in one state (`all`: every state). Pending first: what awaits a
    decision is the list a person opens on."""
    args = visit.request.args
    status = args.get("status", "pending")
    wanted = status if status in statuses else None
    found = visit.api.get(route, status=wanted, after=args.get("after"), limit=LIST_PAGE)
    shown = {"status": status}
    more = urlencode({**shown, "after": found["next"]}) if found["next"] else None
    return visit.render(template, page=found, chosen=status, statuses=statuses,
                        state=_state(visit.text), more=more,
                        first=urlencode(shown) if args.get("after") else None)


# A printable file (9.4).


@page("/archive/files/<file_id>/print.pdf")
def printable(visit: Visit, file_id: str) -> Response:
    record = visit.api.get(f"/files/{file_id}")
    response = Response(file_pdf(record, visit.text), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{record["file_code"]}.pdf"'
    return response


def file_pdf(record: dict[str, Any], text: Localized) -> bytes:
    """The file as the archive holds it, on A4: its unified code (9.4a), category, dates,
    retention (9.4e), legal holds and the index of its contents by section (9.4b)."""
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    _ = text.gettext
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=10, leading=14, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=10,
                             spaceAfter=4)

    def cell(value: Any) -> Paragraph:
        return Paragraph(escape(str(value if value is not None else "")), body)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        shown = Table([[cell(value) for value in row] for row in rows], colWidths=widths)
        shown.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return shown

    retention = record["retention"]
    category = record["category_label"]["zh" if text.locale == "zh_CN" else "en"]
    missing = record["completeness"]["missing"]
    story: list[Any] = [
        Paragraph(escape(_("Archive file %(code)s", code=record["file_code"])), title),
        table([
            [_("Unified code (9.4a)"), record["file_code"]],
            [_("Category (9.4a)"), f"{record['category']} {category}"],
            [_("School"), record["school_id"]],
            [_("Archived record"), f"{record['record_source']} {record['record_id']}"],
            [_("Opened on"), text.date(record["opened_on"])],
            [_("Closed on"), text.date(record["closed_on"])],
            [_("File state"), text.label(record["status"])],
            [_("Complete (9.4b)"), _("Complete") if not missing else
             _("Missing: %(sections)s", sections=text.file_sections(missing))],
            [_("Retention (9.4e)"), _("%(years)s years, until %(date)s", years=retention["years"],
                                      date=text.date(retention["end_on"]))
             if retention["end_on"] else _("%(years)s years after closing",
                                           years=retention["years"])],
            [_("Legal holds"), "；".join(
                f"{text.label(hold['authority'])} {hold['reference']}"
                for hold in record["legal_holds"]) or _("No legal hold.")],
        ], [45 * mm, 125 * mm]),
        Paragraph(escape(_("Contents index (9.4b)")), heading),
    ]
    for section, label in FILE_SECTIONS.items():
        entries = record["contents"].get(section, [])
        if not entries and section == "other":
            continue
        story.append(Paragraph(escape(_(label)), heading))
        rows = [[_("Entry"), _("What happened"), _("Happened at"), _("Ledger position")]]
        rows += [[str(number), entry_label(text, entry["type"]),
                  text.datetime(entry["occurred_at"]), f"{entry['source']} #{entry['position']}"]
                 for number, entry in enumerate(entries, 1)]
        if not entries:
            rows.append(["", _("Nothing yet."), "", ""])
        story.append(table(rows, [12 * mm, 80 * mm, 48 * mm, 30 * mm]))
    story += [Spacer(1, 6 * mm),
              Paragraph(escape(_("Printed from Casebook. Personal content is not printed: it is "
                                 "read under an approved grant (9.4d).")), body)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=record["file_code"], author="Casebook",
                      leftMargin=20 * mm, rightMargin=20 * mm).build(story)
    return out.getvalue()


# Refusals as the archivist's forms show them.


def _shown_on_form(refusal: Refused) -> bool:
    """A refusal the form can answer: bad input, a wrong state, or the two-person rule."""
    return refusal.status in (400, 409) or refusal.problem.get("code") == "two_person_rule"


def _problem(refusal: Refused, fields: tuple[Field, ...]) -> Problem:
    shown = Problem.of(refusal.problem, fields)
    code = refusal.problem.get("code", "")
    if code in ARCHIVE_PROBLEMS:
        shown.summary = Message(ARCHIVE_PROBLEMS[code])
    return shown


def _state(text: Localized) -> Any:
    def label(code: str | None) -> str:
        if code in STATES:
            return text.gettext(STATES[code])
        return text.label(code) if code else ""
    return label
