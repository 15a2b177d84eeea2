"""The auditor's pages: each source's chain and the last signed checkpoint, the ledger by source,
a verification and its report, a record as it was at a ledger position or a time, and an export
of a source's ledger entries (docs/auditors.md). Auditors read history, the ledger and
envelopes, never personal content (4.5, 9.4d); every read goes through the archive's routes."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_timedelta
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from contracts.envelope import envelope_bytes
from contracts.registry import SOURCES
from services.console import forms
from services.console.forms import Field
from services.console.i18n import (
    LABELS,
    N_,
    PROBLEMS,
    Localized,
    Message,
    field_message,
    zone,
)
from services.console.web import Problem, Refused, Visit, nav, page
from services.gateway.schemas import MAX_EVENTS
from services.runtime.clock import clock

LEDGER_PAGE = 50
EXPORT_PAGE = 200  # the largest page a list query gives (services.runtime.paging.MAX_LIMIT)
LEDGER_COLUMNS = ("source", "position", "type", "aggregate_id", "school_id", "hash",
                  "prev_position", "prev_hash", "occurred_at", "recorded_at")

nav(N_("Chains and checkpoints"), "/audit/status", "auditor")
nav(N_("The ledger"), "/audit/ledger/cases", "auditor")
nav(N_("Verify the ledger"), "/audit/verification", "auditor")
nav(N_("Verifications kept"), "/audit/verifications", "auditor")
nav(N_("A record as it was"), "/audit/records", "auditor")
nav(N_("Chain alarms"), "/audit/alarms", "auditor")
nav(N_("Export the ledger"), "/audit/export", "auditor")
nav(N_("Escalations"), "/escalations", "auditor")

VERIFY = (
    Field("against_stores", N_("Also compare each chain with its source's own store"), "bool",
          default=lambda: True),
    Field("since_checkpoint",
          N_("Only what follows the last signed checkpoint (the daily check)"), "bool"),
)
# A point in the ledger's history: a position of the record's own source, or a time.
POINT = (
    Field("position", N_("Ledger position"), "int",
          hint=N_("The record as it was when the ledger recorded this position of its "
                  "source.")),
    Field("at", N_("Or a time (Beijing time)"),
          hint=N_("For example 2026-09-01 08:30. Give a position or a time, not both.")),
)
AS_OF = (
    Field("source", N_("Source service"), "select", SOURCES, required=True,
          default=lambda: "cases"),
    Field("record_id", N_("Record id"), required=True),
    *POINT,
)
EXPORT = (
    Field("source", N_("Source service"), "select", SOURCES, required=True,
          default=lambda: "cases"),
    Field("from_position", N_("From position"), "int", hint=N_("Empty: from the first.")),
    Field("to_position", N_("To position"), "int", hint=N_("Empty: to the last.")),
    Field("format", N_("File format"), "select", ("jsonl", "csv", "envelopes"), required=True,
          default=lambda: "jsonl"),
)
# A record's status as the archive replays it from the ledger (services.archive.app).
RECORD_STATUSES = {"open": N_("Open: in service"), "declined": LABELS["declined"],
                   "closed": LABELS["closed"], "received": N_("Letter received"),
                   "answered": N_("Letter answered"), "held": N_("Class held")}
FORMAT_NAMES = {"jsonl": N_("JSON Lines"), "csv": N_("CSV (UTF-8, for Excel)"),
                "envelopes": N_("The envelopes as published, one a line, for a verifier of "
                                "your own (examples/verify)")}
SOME_FIELDS = Message(PROBLEMS["invalid_input"])
ALARMS_PAGE = 50
# What the gateway answers when a service is not running (503) or did not answer in time
# (504): a page that only cross-checks with it goes on without it.
UNAVAILABLE = (503, 504)
VERIFICATIONS_PAGE = 50
# What contracts.envelope.chain_problems says is wrong with an envelope, in the locale's words.
CHAIN_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"hash does not match the envelope's content"),
     N_("Its hash is not the hash of its content.")),
    (re.compile(r"prev_position is (?P<given>\S+), expected (?P<expected>\d+)"),
     N_("It follows position %(given)s; the ledger's head was %(expected)s.")),
    (re.compile(r"prev_hash does not match the previous envelope's hash"),
     N_("Its previous hash is not the hash of the entry before.")),
    (re.compile(r"the envelope holds a value its hash rule cannot write: (?P<why>.*)"),
     N_("It holds a value its hash rule cannot write: %(why)s")),
    (re.compile(r"unknown hash rule (?P<rule>.*)"), N_("It names an unknown hash rule, %(rule)s.")),
    # Against the source's own store (contracts/chain.py).
    (re.compile(r"the stored event cannot be read back into its envelope: (?P<why>.*)"),
     N_("The stored event cannot be read back into its envelope: %(why)s")),
    (re.compile(r"in the source's store but not recorded"),
     N_("In the source's store, but not in the ledger.")),
    (re.compile(r"stored event differs from what was published: (?P<keys>.*)"),
     N_("The stored event differs from what was published, in: %(keys)s.")),
    (re.compile(r"recomputed hash differs from the recorded one"),
     N_("Its hash computed again from the store is not the one recorded.")),
    (re.compile(r"recorded but no longer in the source's store"),
     N_("In the ledger, but no longer in the source's store.")),
    # A signed checkpoint's (services/archive/ledger.py).
    (re.compile(r"signature does not verify"), N_("Its signature does not verify.")),
    (re.compile(r"signed by key (?P<key>\S+), which is not a trusted ledger key"),
     N_("Signed by key %(key)s, which is not a trusted ledger key.")),
    (re.compile(r"signed (?P<signed>\d+) entries, the ledger holds (?P<held>\d+) up to that "
                r"point"),
     N_("It signed %(signed)s entries; the ledger holds %(held)s up to that point.")),
    (re.compile(r"signed head (?P<head>\S+) is not in the ledger"),
     N_("Its signed head %(head)s is not in the ledger.")),
    (re.compile(r"signed head (?P<head>\S+) has another hash in the ledger"),
     N_("Its signed head %(head)s has another hash in the ledger.")),
)


# 1. Chains and checkpoints.


@page("/audit/status")
def status(visit: Visit) -> Response:
    """Per source: the ledger's head, the head the last checkpoint signed, and whether the
    chain verified in the last verification kept (showing the page verifies nothing: a
    verification is kept, so it is run on purpose, from the button here, the verification
    page or `casebook verify`)."""
    checkpoints = visit.api.get("/ledger/checkpoints", limit=1)
    last = checkpoints["items"][0] if checkpoints["items"] else None
    signed = {head["source"]: head for head in (last["heads"] if last else [])}
    kept = visit.api.get("/ledger/verifications", limit=1)["items"]
    report = (visit.api.get(f"/ledger/verifications/{kept[0]['verification_id']}") if kept
              else None)
    rows = []
    for source in SOURCES:
        head = visit.api.get(f"/ledger/{source}/head")
        checked = report["sources"].get(source) if report else None
        # The alarms the ledger raised as this source's envelopes arrived: only their count.
        alarmed = visit.api.get("/ledger/alarms", source=source, limit=1)["total"]
        rows.append({"source": source, "head": head, "signed": signed.get(source),
                     "checked": checked, "alarms": alarmed})
    age = None
    if last is not None:
        age = _age(clock.now() - datetime.fromisoformat(last["signed_at"]),
                   visit.text.locale)
    return visit.render("auditor_status.html", rows=rows, last=last, age=age,
                        checkpoint_count=checkpoints["total"], report=report)


def _age(elapsed: timedelta, locale: str) -> str:
    return format_timedelta(max(elapsed, timedelta()), threshold=1.1, locale=locale)


# 2. The ledger by source.


@page("/audit/ledger/<source>")
def ledger(visit: Visit, source: str) -> Response:
    """A page of one source's ledger entries by position, each with its link to the one before
    (prev_position, prev_hash) as the ledger received it. Beside them, the hashes the source
    itself published at the same positions (one read a page): a source whose stream cannot be
    read now (not running) leaves the ledger shown, without that cross-check."""
    if source not in SOURCES:
        raise NotFound()
    entries = visit.api.get(f"/ledger/{source}/entries", after=visit.request.args.get("after"),
                            limit=LEDGER_PAGE)
    items = entries["items"]
    published: dict[int, str] | None = {}
    if items:
        span = items[-1]["position"] - items[0]["position"] + 1
        try:
            feed = visit.api.get(f"/events/{source}", after=items[0]["position"] - 1,
                                 limit=min(span, MAX_EVENTS))
            published = {envelope["position"]: envelope["hash"] for envelope in feed["items"]}
        except Refused as refusal:
            if refusal.status not in UNAVAILABLE:
                raise
            published = None
    return visit.render("auditor_ledger.html", source=source, sources=SOURCES, rows=items,
                        published=published, page=entries,
                        request_after=visit.request.args.get("after"))


@page("/audit/ledger/<source>/<int:position>")
def ledger_entry(visit: Visit, source: str, position: int) -> Response:
    """One ledger entry as the archive stores it, laid out to be checked by hand: the
    envelope, the text its hash is the SHA-256 of, and the entry before it."""
    if source not in SOURCES:
        raise NotFound()
    entry = visit.api.get(f"/ledger/{source}/entries/{position}")
    envelope = entry["envelope"]
    before = entry["entry_before"]
    return visit.render(
        "auditor_entry.html", entry=entry, envelope=envelope,
        shown=json.dumps(envelope, ensure_ascii=False, sort_keys=True, indent=1),
        hash_holds=entry["computed_hash"] == envelope["hash"],
        link_holds=envelope.get("prev_hash") == before["hash"]
        and envelope.get("prev_position") == before["position"],
        problems=[chain_problem(visit.text, problem)
                  for problem in (entry["alarm"] or {}).get("problems", [])])


@page("/audit/ledger/<source>/<int:position>/hashed.json")
def hashed_text(visit: Visit, source: str, position: int) -> Response:
    """The exact bytes the entry's hash covers, to run `sha256sum` on."""
    if source not in SOURCES:
        raise NotFound()
    entry = visit.api.get(f"/ledger/{source}/entries/{position}")
    if entry["hashed_text"] is None:
        raise NotFound()
    return Response(entry["hashed_text"].encode("utf-8"), content_type="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="{source}-{position}-hashed.json"'})


@page("/audit/alarms")
def alarms(visit: Visit) -> Response:
    """The breaks in each source's chain the ledger met as envelopes arrived, by source and
    position, paged (a verification's are in its report, among the verifications kept)."""
    args = visit.request.args
    chosen = args.get("source") if args.get("source") in SOURCES else None
    found = visit.api.get("/ledger/alarms", source=chosen, after=args.get("after"),
                          limit=ALARMS_PAGE)
    for alarm in found["items"]:
        alarm["said"] = [chain_problem(visit.text, problem) for problem in alarm["problems"]]
    shown = {"source": chosen} if chosen else {}
    more = urlencode({**shown, "after": found["next"]}) if found["next"] else None
    return visit.render("auditor_alarms.html", page=found, sources=SOURCES, chosen=chosen,
                        more=more)


def chain_problem(text: Localized, problem: str) -> str:
    """A problem of a chain in the locale's words; one the console does not know, as said."""
    for pattern, message in CHAIN_PROBLEMS:
        matched = pattern.fullmatch(problem)
        if matched:
            return text.gettext(message, **matched.groupdict())
    return problem


# 3. Verification.


@page("/audit/verification")
def verification_form(visit: Visit) -> Response:
    return visit.render("auditor_verification.html", fields=VERIFY,
                        values=forms.values(VERIFY, None), problem=None, report=None)


@page("/audit/verification", "POST")
def verify(visit: Visit) -> Response:
    form = visit.request.form
    body = forms.payload(VERIFY, form)
    try:
        report = visit.api.post("/ledger/verifications", body, form.get("idempotency_key"))
    except Refused as refusal:
        if refusal.status != 400:
            raise
        return visit.render("auditor_verification.html", 400, fields=VERIFY,
                            values=forms.values(VERIFY, form),
                            problem=Problem.of(refusal.problem, VERIFY), report=None)
    return visit.render("auditor_verification.html", fields=VERIFY,
                        values=forms.values(VERIFY, form), problem=None,
                        **shown_report(visit, report))


def shown_report(visit: Visit, report: dict[str, Any]) -> dict[str, Any]:
    """What the report's part of a page needs: the report, the positions it checked, and its
    problems in the person's words."""
    return {"report": report, "ranges": ranges(report),
            "said": lambda problem: chain_problem(visit.text, problem)}


@page("/audit/verifications")
def verifications(visit: Visit) -> Response:
    """The verifications kept, the newest first: all, those that verified, or those that found
    problems, paged."""
    args = visit.request.args
    chosen = {"ok": True, "failed": False}.get(args.get("result", ""))
    shown = {"result": args["result"]} if chosen is not None else {}
    found = visit.api.get("/ledger/verifications", ok=chosen, after=args.get("after"),
                          limit=VERIFICATIONS_PAGE)
    more = urlencode({**shown, "after": found["next"]}) if found["next"] else None
    return visit.render("auditor_verifications.html", page=found,
                        result=shown.get("result"), more=more)


@page("/audit/verifications/<verification_id>")
def verification(visit: Visit, verification_id: str) -> Response:
    report = visit.api.get(f"/ledger/verifications/{quote(verification_id, safe='')}")
    return visit.render("auditor_verification_kept.html", **shown_report(visit, report))


def ranges(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per source, the positions a verification checked: from the first after its start (the
    checkpoint's signed head, or the genesis) to the head it reached."""
    start = {head["source"]: head["position"] for head in report.get("checkpoint_heads") or []}
    return {source: (start.get(source, 0) + 1, section["head"]["position"])
            for source, section in report["sources"].items()}


# 4. A record as it was.


@page("/audit/records")
def record_as_of(visit: Visit) -> Response:
    """The form, and once a record is named, the record as the ledger held it then (its
    envelopes and status) beside it now, and for a case its archive file then (9.4b)."""
    args = visit.request.args
    if "record_id" not in args:
        return visit.render("auditor_record.html", fields=AS_OF,
                            values=forms.values(AS_OF, None), problem=None, then=None)
    values = forms.values(AS_OF, args)
    query, problem = as_of_query(args)
    if problem is not None:
        return visit.render("auditor_record.html", 400, fields=AS_OF, values=values,
                            problem=problem, then=None)
    # Quoted: a record id is a path segment of the archive's route, whatever it holds.
    source, record_id = query.pop("source"), quote(query.pop("record_id"), safe="")
    try:
        then = visit.api.get(f"/records/{source}/{record_id}", **query)
        now = visit.api.get(f"/records/{source}/{record_id}")
    except Refused as refusal:
        if refusal.status not in (400, 404):
            raise
        return visit.render("auditor_record.html", refusal.status, fields=AS_OF, values=values,
                            problem=Problem.of(as_fields(refusal.problem), AS_OF), then=None)
    file = _file_then(visit, source, record_id, query) if source == "cases" else None
    for event in then["events"]:
        event["shown"] = json.dumps(event["payload"], ensure_ascii=False, sort_keys=True,
                                    indent=1)
    return visit.render("auditor_record.html", fields=AS_OF, values=values, problem=None,
                        then=then, now=now, file=file, point=query,
                        statuses=RECORD_STATUSES)


def as_of_query(args: MultiDict[str, str]) -> tuple[dict[str, Any], Problem | None]:
    """The archive's query for a record at a point, from the form: a ledger position of the
    record's own source, or a time on Beijing time. What only the console shapes (a record id
    to name in the path, a time typed without its zone) it checks itself; the rest the
    archive's schema does."""
    source = args.get("source", "").strip()
    query: dict[str, Any] = {"source": source, "record_id": args.get("record_id", "").strip()}
    beside: dict[str, list[Message]] = {}
    if not query["record_id"]:
        beside["record_id"] = [field_message("Missing data for required field.")]
    elif "/" in query["record_id"]:
        beside["record_id"] = [Message(N_("A record id has no slash."))]
    if not source or "/" in source:
        beside["source"] = [field_message("Missing data for required field.")]
    point, problem = point_query(args, source)
    query.update(point)
    if problem is not None:
        beside.update(problem.beside)
    if beside:
        return query, Problem(SOME_FIELDS, "", beside)
    return query, None



def point_query(args: MultiDict[str, str], source: str) -> tuple[dict[str, Any], Problem | None]:
    """The archive's as-of query of a point in the ledger's history, from a form's `POINT`
    fields: a position of `source` in the ledger, or a time typed on Beijing time (as the
    console shows times) unless it names its zone. Whether the position is one, and that not
    both are given, the archive's schema says."""
    query: dict[str, Any] = {}
    position = args.get("position", "").strip()
    if position:
        query.update(ledger_source=source, ledger_position=position)
    at = args.get("at", "").strip()
    if at:
        try:
            typed = datetime.fromisoformat(at)
        except ValueError:
            return query, Problem(SOME_FIELDS, "", {"at": [Message(
                N_("Not a date and time such as 2026-09-01 08:30."))]})
        query["at"] = (typed if typed.tzinfo else typed.replace(tzinfo=zone())).isoformat()
    return query, None


def as_fields(problem: dict[str, Any]) -> dict[str, Any]:
    """The archive's refusal of an as-of query with its fields named as the forms name them."""
    names = {"ledger_position": "position", "ledger_source": "source", "aggregate_id":
             "record_id"}
    errors = problem.get("errors") or {}
    return {**problem, "errors": {names.get(key, key): rules for key, rules in errors.items()}}


def _file_then(visit: Visit, source: str, record_id: str,
               point: dict[str, Any]) -> dict[str, Any] | None:
    """The case's archive file as it was at the same point; None if it has none (yet)."""
    try:
        file = visit.api.get(f"/records/{source}/{record_id}/file")
        if not point:
            return dict(file)
        then: dict[str, Any] = visit.api.get(f"/files/{file['file_id']}/as-of", **point)
        return then
    except Refused as refusal:
        if refusal.status != 404:
            raise
        return None


# 5. Export.


@page("/audit/export")
def export(visit: Visit) -> Response:
    """The form; with a format chosen, the source's ledger entries in the range (or the
    envelopes it published there, as `casebook export` writes them), streamed a page at a time
    as they are read (never the whole ledger in memory)."""
    args = visit.request.args
    if "format" not in args:
        return visit.render("auditor_export.html", fields=EXPORT,
                            values=forms.values(EXPORT, None), problem=None,
                            format_names=FORMAT_NAMES)
    chosen, problem = export_range(args)
    source, published = chosen.source, chosen.format == "envelopes"
    if problem is None:
        try:
            first = (visit.api.get(f"/events/{source}", after=(chosen.start or 1) - 1,
                                   limit=EXPORT_PAGE) if published
                     else visit.api.get(f"/ledger/{source}/entries", limit=EXPORT_PAGE))
        except Refused as refusal:
            if refusal.status != 400:
                raise
            problem = Problem.of(refusal.problem, EXPORT)
    if problem is not None:
        return visit.render("auditor_export.html", 400, fields=EXPORT,
                            values=forms.values(EXPORT, args), problem=problem,
                            format_names=FORMAT_NAMES)

    def read(after: str) -> dict[str, Any]:
        page_: dict[str, Any] = visit.api.get(f"/ledger/{source}/entries", after=after,
                                              limit=EXPORT_PAGE)
        return page_

    def read_published(after: int) -> dict[str, Any]:
        page_: dict[str, Any] = visit.api.get(f"/events/{source}", after=after,
                                              limit=EXPORT_PAGE)
        return page_

    range_ = f"{source}-{chosen.start or 1}-{chosen.end or 'head'}"
    body: Iterator[bytes]
    if published:
        body = (envelope_bytes(envelope) + b"\n"
                for envelope in published_in(first, read_published, chosen.end))
        name, content_type = f"envelopes-{range_}.jsonl", "application/jsonl; charset=utf-8"
    else:
        rows = entries_in(first, read, chosen.start, chosen.end)
        body = as_csv(rows) if chosen.format == "csv" else as_json_lines(rows)
        name = f"ledger-{range_}.{chosen.format}"
        content_type = ("text/csv; charset=utf-8" if chosen.format == "csv"
                        else "application/jsonl; charset=utf-8")
    return Response(body, content_type=content_type, direct_passthrough=True,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@dataclass(frozen=True)
class Range:
    source: str
    start: int | None
    end: int | None
    format: str


def export_range(args: MultiDict[str, str]) -> tuple[Range, Problem | None]:
    """The export's source, range and format as the form gave them, or why not."""
    beside: dict[str, list[Message]] = {}
    source = args.get("source", "")
    if source not in SOURCES:
        beside["source"] = [field_message("Must be one of: " + ", ".join(SOURCES))]
    kind = args.get("format", "")
    if kind not in FORMAT_NAMES:
        beside["format"] = [field_message("Must be one of: " + ", ".join(FORMAT_NAMES))]
    bounds: dict[str, int | None] = {}
    for name in ("from_position", "to_position"):
        raw = args.get(name, "").strip()
        bounds[name] = None
        if not raw:
            continue
        if not raw.isdigit():
            beside[name] = [field_message("Not a valid integer.")]
        elif int(raw) < 1:
            beside[name] = [field_message("Must be greater than or equal to 1.")]
        else:
            bounds[name] = int(raw)
    start, end = bounds["from_position"], bounds["to_position"]
    if start is not None and end is not None and end < start:
        beside["to_position"] = [Message(N_("Not before the first position (%(min)s)."),
                                         {"min": start})]
    chosen = Range(source, start, end, kind)
    if beside:
        return chosen, Problem(SOME_FIELDS, "", beside)
    return chosen, None


def entries_in(first: dict[str, Any], read: Callable[[str], dict[str, Any]],
               start: int | None, end: int | None) -> Iterator[dict[str, Any]]:
    """The ledger entries from `start` to `end` (positions, both included), a page at a time:
    the next page is read only when the one before has been sent. The archive pages by cursor
    from the first position, so the entries before `start` are read and passed over."""
    page_ = first
    while True:
        for item in page_["items"]:
            if end is not None and item["position"] > end:
                return
            if start is None or item["position"] >= start:
                yield item
        if not page_["next"]:
            return
        page_ = read(page_["next"])


def published_in(first: dict[str, Any], read: Callable[[int], dict[str, Any]],
                 end: int | None) -> Iterator[dict[str, Any]]:
    """The envelopes a source published, from the first page (read after the position before
    the range) to `end` (a position, included), a page at a time: the next page is read only
    when the one before has been sent."""
    page_ = first
    while page_["items"]:
        for envelope in page_["items"]:
            if end is not None and envelope["position"] > end:
                return
            yield envelope
        page_ = read(page_["next_after"])


def as_json_lines(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps({column: row.get(column) for column in LEDGER_COLUMNS},
                          ensure_ascii=False) + "\n").encode()


def as_csv(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """CSV with a UTF-8 byte-order mark first, so Excel in zh-CN reads it as UTF-8."""
    yield "\ufeff".encode()
    yield _csv_line(LEDGER_COLUMNS)
    for row in rows:
        yield _csv_line(tuple("" if row.get(c) is None else str(row[c]) for c in LEDGER_COLUMNS))


def _csv_line(values: tuple[str, ...]) -> bytes:
    line = io.StringIO()
    csv.writer(line, lineterminator="\r\n").writerow(values)
    return line.getvalue().encode()
