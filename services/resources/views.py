"""The resources service's read models (DESIGN.md "Reads"): the register (9.3a), volunteers
(9.3b), resource links and referrals (8.3.4b, 8.3.1e), joint activities (7.3a, 7.5), what
provider feedback counts and the feedback issued (9.3c), as tables kept by projections of the
service's own events; and the queries that read them, with school scope, filters and keyset
paging in SQL.

Names and contacts of providers and volunteers stay sealed here too: the rows hold the token,
which the application opens for the roles that may read it. Lists of codes and schools are
kept as JSON text for display, and as rows of their own where SQL filters on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from services.resources.domain import (
    Donation,
    JointActivity,
    Provider,
    ProviderFeedback,
    Resource,
)
from services.resources.filters import (
    CHECK_STATE,
    ELIGIBLE_FOR,
    RESOURCE_SEEN,
    SERVES,
    VALID_ON,
    Filters,
    donations_of,
    iso,
    of_case,
    of_school,
    serving,
)
from services.resources.links import Referral, ResourceLink
from services.resources.volunteers import Volunteer, minutes_of
from services.runtime.clock import local_date
from services.runtime.context import Actor
from services.runtime.paging import DEFAULT_LIMIT, page
from services.runtime.views import Table, Transaction, Views, projects


class ResourcesViews(Views):
    tables = (
        Table("provider", """
            provider_id TEXT NOT NULL, version BIGINT NOT NULL, school_id TEXT,
            provider_kind TEXT NOT NULL, sector TEXT NOT NULL, display_name TEXT,
            sealed_details TEXT NOT NULL, registered_on TEXT NOT NULL""",
              key=("provider_id",),
              indexes=(("registered_on", "provider_id"), ("school_id",), ("sector",))),
        Table("resource", """
            resource_id TEXT NOT NULL, version BIGINT NOT NULL, provider_id TEXT NOT NULL,
            school_id TEXT, kind TEXT NOT NULL, title TEXT NOT NULL, capacity BIGINT NOT NULL,
            unit TEXT NOT NULL, held BIGINT NOT NULL, delivered BIGINT NOT NULL,
            remaining BIGINT NOT NULL, school_ids TEXT NOT NULL,
            eligible_service_codes TEXT NOT NULL, max_per_request BIGINT,
            eligibility_note TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT,
            registered_on TEXT NOT NULL""",
              key=("resource_id",),
              indexes=(("registered_on", "resource_id"), ("provider_id",), ("kind",))),
        # The schools each resource covers, and its eligibility codes: what SQL filters on.
        Table("resource_school",
              "resource_id TEXT NOT NULL, school_id TEXT NOT NULL, provider_id TEXT NOT NULL",
              key=("resource_id", "school_id"), indexes=(("school_id", "provider_id"),)),
        Table("resource_code", "resource_id TEXT NOT NULL, service_code TEXT NOT NULL",
              key=("resource_id", "service_code")),
        # Capacity held for each standing offer, so a release or a delivery frees what it held.
        Table("resource_hold",
              "resource_id TEXT NOT NULL, link_id TEXT NOT NULL, quantity BIGINT NOT NULL",
              key=("resource_id", "link_id")),
        Table("donation", """
            donation_id TEXT NOT NULL, provider_id TEXT NOT NULL, school_id TEXT,
            kind TEXT NOT NULL, amount_cents BIGINT NOT NULL, currency TEXT NOT NULL,
            description TEXT NOT NULL, restricted BOOLEAN NOT NULL,
            restricted_to_service_codes TEXT NOT NULL, restricted_to_school_ids TEXT NOT NULL,
            restriction_note TEXT NOT NULL, received_on TEXT NOT NULL""",
              key=("donation_id",),
              indexes=(("received_on", "donation_id"), ("provider_id",),
                       ("school_id", "kind", "currency"))),
        Table("volunteer", """
            volunteer_id TEXT NOT NULL, version BIGINT NOT NULL, school_id TEXT,
            sealed_details TEXT NOT NULL, skills TEXT NOT NULL, registered_on TEXT NOT NULL,
            check_result TEXT, checked_on TEXT, check_expires_on TEXT,
            assignment_count BIGINT NOT NULL, minutes_served BIGINT NOT NULL""",
              key=("volunteer_id",),
              indexes=(("registered_on", "volunteer_id"), ("school_id",),
                       ("check_expires_on",))),
        Table("resource_link", """
            link_id TEXT NOT NULL, version BIGINT NOT NULL, request_id TEXT NOT NULL,
            case_id TEXT NOT NULL, school_id TEXT, requested_by TEXT NOT NULL,
            kind TEXT NOT NULL, service_codes TEXT NOT NULL, quantity BIGINT NOT NULL,
            needed_by TEXT, requested_at TEXT NOT NULL, requested_on TEXT NOT NULL,
            state TEXT NOT NULL, resource_id TEXT, provider_id TEXT, offered_quantity BIGINT,
            offered_on TEXT, accepted_on TEXT, delivered_quantity BIGINT, delivered_on TEXT,
            units_used BIGINT, outcome TEXT, usage_recorded_on TEXT, declines BIGINT NOT NULL""",
              key=("link_id",),
              indexes=(("requested_at", "link_id"), ("school_id", "state"),
                       ("provider_id", "delivered_on"), ("resource_id",))),
        Table("referral", """
            referral_id TEXT NOT NULL, version BIGINT NOT NULL, case_id TEXT NOT NULL,
            school_id TEXT, referred_by TEXT NOT NULL, agency_kind TEXT NOT NULL,
            agency_id TEXT, reason_code TEXT NOT NULL, referred_on TEXT NOT NULL,
            status TEXT NOT NULL, accepted_on TEXT, outcome TEXT, completed_on TEXT""",
              key=("referral_id",),
              indexes=(("referred_on", "referral_id"), ("school_id", "status"))),
        Table("joint_activity", """
            activity_id TEXT NOT NULL, school_id TEXT, partner_ids TEXT NOT NULL,
            theme TEXT NOT NULL, service_codes TEXT NOT NULL, held_on TEXT NOT NULL,
            participant_count BIGINT NOT NULL""",
              key=("activity_id",), indexes=(("held_on", "activity_id"), ("school_id",))),
        Table("activity_partner",
              "activity_id TEXT NOT NULL, provider_id TEXT NOT NULL, school_id TEXT",
              key=("activity_id", "provider_id"), indexes=(("provider_id",),)),
        # Feedback issued to providers (9.3c), with the figures as they stood when issued.
        Table("issued_feedback", """
            feedback_id TEXT NOT NULL, provider_id TEXT NOT NULL, school_id TEXT,
            period_from TEXT NOT NULL, period_to TEXT NOT NULL, issued_on TEXT NOT NULL,
            figures TEXT NOT NULL""",
              key=("feedback_id",),
              indexes=(("issued_on", "feedback_id"), ("provider_id",), ("school_id",))),
    )

    # Providers and resources (9.3a).

    @projects(Provider.Registered)  # type: ignore[attr-defined]
    def provider_registered(self, tx: Transaction, event: Any) -> None:
        tx.insert("provider", provider_id=str(event.originator_id),
                  version=event.originator_version, school_id=event.school_id,
                  provider_kind=event.provider_kind, sector=event.sector,
                  display_name=event.display_name, sealed_details=event.sealed_details,
                  registered_on=iso(event.registered_on))

    @projects(Resource.Registered)  # type: ignore[attr-defined]
    def resource_registered(self, tx: Transaction, event: Any) -> None:
        resource_id = str(event.originator_id)
        tx.insert("resource", resource_id=resource_id, version=event.originator_version,
                  provider_id=event.provider_id, school_id=event.school_id, kind=event.kind,
                  title=event.title, capacity=event.capacity, unit=event.unit, held=0,
                  delivered=0, remaining=event.capacity,
                  school_ids=json.dumps(event.school_ids),
                  eligible_service_codes=json.dumps(event.eligible_service_codes),
                  max_per_request=event.max_per_request,
                  eligibility_note=event.eligibility_note, valid_from=iso(event.valid_from),
                  valid_until=iso(event.valid_until), registered_on=iso(event.registered_on))
        for school_id in dict.fromkeys(event.school_ids):
            tx.insert("resource_school", resource_id=resource_id, school_id=school_id,
                      provider_id=event.provider_id)
        for code in dict.fromkeys(event.eligible_service_codes):
            tx.insert("resource_code", resource_id=resource_id, service_code=code)

    @projects(Resource.Held)  # type: ignore[attr-defined]
    def capacity_held(self, tx: Transaction, event: Any) -> None:
        resource_id = str(event.originator_id)
        tx.insert("resource_hold", resource_id=resource_id, link_id=event.link_id,
                  quantity=event.quantity)
        self._capacity(tx, event, held=event.quantity, delivered=0)

    @projects(Resource.Released)  # type: ignore[attr-defined]
    def capacity_released(self, tx: Transaction, event: Any) -> None:
        held = self._take_hold(tx, event)
        self._capacity(tx, event, held=-held, delivered=0)

    @projects(Resource.HoldUsed)  # type: ignore[attr-defined]
    def hold_used(self, tx: Transaction, event: Any) -> None:
        held = self._take_hold(tx, event)
        self._capacity(tx, event, held=-held, delivered=event.quantity)

    @staticmethod
    def _take_hold(tx: Transaction, event: Any) -> int:
        where = {"resource_id": str(event.originator_id), "link_id": event.link_id}
        row = tx.fetchone("SELECT quantity FROM {resource_hold} WHERE resource_id = "
                          ":resource_id AND link_id = :link_id", **where)
        tx.delete("resource_hold", **where)
        return int(row["quantity"]) if row else 0

    @staticmethod
    def _capacity(tx: Transaction, event: Any, held: int, delivered: int) -> None:
        tx.execute("UPDATE {resource} SET held = held + :held, delivered = delivered + "
                   ":delivered, remaining = remaining - :held - :delivered, version = "
                   ":version WHERE resource_id = :resource_id", held=held, delivered=delivered,
                   version=event.originator_version, resource_id=str(event.originator_id))

    @projects(Donation.Recorded)  # type: ignore[attr-defined]
    def donation_recorded(self, tx: Transaction, event: Any) -> None:
        tx.insert("donation", donation_id=str(event.originator_id),
                  provider_id=event.provider_id, school_id=event.school_id, kind=event.kind,
                  amount_cents=event.amount_cents, currency=event.currency,
                  description=event.description,
                  restricted=bool(event.restricted_to_service_codes
                                  or event.restricted_to_school_ids or event.restriction_note),
                  restricted_to_service_codes=json.dumps(event.restricted_to_service_codes),
                  restricted_to_school_ids=json.dumps(event.restricted_to_school_ids),
                  restriction_note=event.restriction_note, received_on=iso(event.received_on))

    # Volunteers (9.3b).

    @projects(Volunteer.Registered)  # type: ignore[attr-defined]
    def volunteer_registered(self, tx: Transaction, event: Any) -> None:
        tx.insert("volunteer", volunteer_id=str(event.originator_id),
                  version=event.originator_version, school_id=event.school_id,
                  sealed_details=event.sealed_details, skills=json.dumps(event.skills),
                  registered_on=iso(event.registered_on), check_result=None,
                  checked_on=None, check_expires_on=None, assignment_count=0,
                  minutes_served=0)

    @projects(Volunteer.CheckRecorded)  # type: ignore[attr-defined]
    def check_recorded(self, tx: Transaction, event: Any) -> None:
        volunteer_id = str(event.originator_id)
        row = tx.fetchone("SELECT checked_on FROM {volunteer} WHERE volunteer_id = :id",
                          id=volunteer_id)
        latest = {"version": event.originator_version}
        # The latest check decides; of two on one day, the one recorded later.
        if row is None or row["checked_on"] is None or iso(event.checked_on) >= row[
                "checked_on"]:
            latest |= {"check_result": event.result, "checked_on": iso(event.checked_on),
                       "check_expires_on": iso(event.expires_on)}
        tx.update("volunteer", {"volunteer_id": volunteer_id}, **latest)

    @projects(Volunteer.Assigned)  # type: ignore[attr-defined]
    def volunteer_assigned(self, tx: Transaction, event: Any) -> None:
        self._volunteer_adds(tx, event, assignments=1, minutes=0)

    @projects(Volunteer.MinutesLogged)  # type: ignore[attr-defined]
    def minutes_logged(self, tx: Transaction, event: Any) -> None:
        self._volunteer_adds(tx, event, assignments=0, minutes=event.minutes)

    @projects(Volunteer.HoursLogged)  # type: ignore[attr-defined]
    def hours_logged(self, tx: Transaction, event: Any) -> None:
        self._volunteer_adds(tx, event, assignments=0, minutes=minutes_of(event.hours))

    @staticmethod
    def _volunteer_adds(tx: Transaction, event: Any, assignments: int, minutes: int) -> None:
        tx.execute("UPDATE {volunteer} SET assignment_count = assignment_count + :assignments, "
                   "minutes_served = minutes_served + :minutes, version = :version "
                   "WHERE volunteer_id = :volunteer_id", assignments=assignments,
                   minutes=minutes, version=event.originator_version,
                   volunteer_id=str(event.originator_id))

    # Resource links (8.3.4b) and referrals (8.3.1e, 7.1.4b).

    @projects(ResourceLink.Requested)  # type: ignore[attr-defined]
    def link_requested(self, tx: Transaction, event: Any) -> None:
        tx.insert("resource_link", link_id=str(event.originator_id),
                  version=event.originator_version, request_id=event.request_id,
                  case_id=event.case_id, school_id=event.school_id,
                  requested_by=event.requested_by, kind=event.kind,
                  service_codes=json.dumps(event.service_codes), quantity=event.quantity,
                  needed_by=iso(event.needed_by), requested_at=event.timestamp.isoformat(),
                  requested_on=iso(local_date(event.timestamp)), state="requested",
                  resource_id=None, provider_id=None, offered_quantity=None, offered_on=None,
                  accepted_on=None, delivered_quantity=None, delivered_on=None,
                  units_used=None, outcome=None, usage_recorded_on=None, declines=0)

    @projects(ResourceLink.Offered)  # type: ignore[attr-defined]
    def link_offered(self, tx: Transaction, event: Any) -> None:
        self._link(tx, event, state="offered", resource_id=event.resource_id,
                   provider_id=event.provider_id, offered_quantity=event.quantity,
                   offered_on=iso(event.offered_on))

    @projects(ResourceLink.Accepted)  # type: ignore[attr-defined]
    def link_accepted(self, tx: Transaction, event: Any) -> None:
        self._link(tx, event, state="accepted", accepted_on=iso(event.accepted_on))

    @projects(ResourceLink.Declined)  # type: ignore[attr-defined]
    def link_declined(self, tx: Transaction, event: Any) -> None:
        # The offer is withdrawn: another resource may be offered next.
        tx.execute("UPDATE {resource_link} SET declines = declines + 1 WHERE link_id = :id",
                   id=str(event.originator_id))
        self._link(tx, event, state="declined", resource_id=None, provider_id=None,
                   offered_quantity=None, offered_on=None, accepted_on=None)

    @projects(ResourceLink.Delivered)  # type: ignore[attr-defined]
    def link_delivered(self, tx: Transaction, event: Any) -> None:
        self._link(tx, event, state="delivered", delivered_quantity=event.quantity,
                   delivered_on=iso(event.delivered_on))

    @projects(ResourceLink.UsageRecorded)  # type: ignore[attr-defined]
    def usage_recorded(self, tx: Transaction, event: Any) -> None:
        self._link(tx, event, state="used", units_used=event.units_used,
                   outcome=event.outcome, usage_recorded_on=iso(event.recorded_on))

    @staticmethod
    def _link(tx: Transaction, event: Any, **values: Any) -> None:
        tx.update("resource_link", {"link_id": str(event.originator_id)},
                  version=event.originator_version, **values)

    @projects(Referral.Made)  # type: ignore[attr-defined]
    def referral_made(self, tx: Transaction, event: Any) -> None:
        tx.insert("referral", referral_id=event.referral_id, version=event.originator_version,
                  case_id=event.case_id, school_id=event.school_id,
                  referred_by=event.referred_by, agency_kind=event.agency_kind,
                  agency_id=event.agency_id, reason_code=event.reason_code,
                  referred_on=iso(event.referred_on), status="made", accepted_on=None,
                  outcome=None, completed_on=None)

    @projects(Referral.Accepted)  # type: ignore[attr-defined]
    def referral_accepted(self, tx: Transaction, event: Any) -> None:
        tx.update("referral", {"referral_id": event.referral_id},
                  version=event.originator_version, status="accepted",
                  accepted_on=iso(event.accepted_on))

    @projects(Referral.Completed)  # type: ignore[attr-defined]
    def referral_completed(self, tx: Transaction, event: Any) -> None:
        tx.update("referral", {"referral_id": event.referral_id},
                  version=event.originator_version, status="completed",
                  outcome=event.outcome, completed_on=iso(event.completed_on))

    # The community network (7.3a, 7.5).

    @projects(JointActivity.Held)  # type: ignore[attr-defined]
    def joint_activity_held(self, tx: Transaction, event: Any) -> None:
        activity_id = str(event.originator_id)
        tx.insert("joint_activity", activity_id=activity_id, school_id=event.school_id,
                  partner_ids=json.dumps(event.partner_ids), theme=event.theme,
                  service_codes=json.dumps(event.service_codes), held_on=iso(event.held_on),
                  participant_count=event.participant_count)
        for provider_id in dict.fromkeys(event.partner_ids):
            tx.insert("activity_partner", activity_id=activity_id, provider_id=provider_id,
                      school_id=event.school_id)

    # Feedback to providers (9.3c).

    @projects(ProviderFeedback.Issued)  # type: ignore[attr-defined]
    def feedback_issued(self, tx: Transaction, event: Any) -> None:
        tx.insert("issued_feedback", feedback_id=str(event.originator_id),
                  provider_id=event.provider_id, school_id=event.school_id,
                  period_from=iso(event.period_from), period_to=iso(event.period_to),
                  issued_on=iso(event.issued_on), figures=json.dumps(event.figures))

    # Queries: the register.

    def provider(self, provider_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM {provider} WHERE provider_id = :id", id=provider_id)
        return None if row is None else provider_row(row)

    def provider_serves(self, provider_id: str, school_id: str) -> bool:
        return self.store.one(f"SELECT 1 AS yes FROM {{provider}} p WHERE p.provider_id = :id "
                              f"AND {SERVES}", id=provider_id, scope=school_id) is not None

    def providers(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  sector: str | None = None, provider_kind: str | None = None,
                  school_id: str | None = None) -> dict[str, Any]:
        filters = serving(actor.school_id)
        filters.equal("p", sector=sector, provider_kind=provider_kind)
        filters.given(school_id, SERVES.replace(":scope", ":school_id"), "school_id")
        return self._page("{provider} p", filters, ("p.registered_on", "p.provider_id"),
                          limit, after, provider_row)

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM {resource} WHERE resource_id = :id", id=resource_id)
        return None if row is None else resource_row(row)

    def resources(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  provider_id: str | None = None, kind: str | None = None,
                  school_id: str | None = None, valid_on: date | None = None,
                  service_code: str | None = None,
                  available: bool | None = None) -> dict[str, Any]:
        filters = Filters() if actor.school_id is None else Filters(RESOURCE_SEEN,
                                                                    scope=actor.school_id)
        filters.equal("r", provider_id=provider_id, kind=kind)
        filters.given(school_id, "EXISTS (SELECT 1 FROM {resource_school} s WHERE "
                                 "s.resource_id = r.resource_id AND s.school_id = :school_id)",
                      "school_id")
        filters.given(valid_on, VALID_ON.format(day="valid_on"), "valid_on")
        filters.given(service_code, ELIGIBLE_FOR.format(codes=":service_code"), "service_code")
        if available is not None:
            filters.add("r.remaining > 0" if available else "r.remaining <= 0")
        return self._page("{resource} r", filters, ("r.registered_on", "r.resource_id"),
                          limit, after, resource_row)

    def proposals(self, kind: str, school_id: str | None, service_codes: list[str],
                  quantity: int, today: date, limit: int = DEFAULT_LIMIT,
                  after: str | None = None) -> dict[str, Any]:
        """Resources that could serve a request today, as `Resource.misfits` decides (the offer
        itself is decided on the resource's own record, against its capacity then)."""
        codes = {f"code_{n}": code for n, code in enumerate(service_codes)}
        filters = Filters("r.kind = :kind", kind=kind)
        filters.add("EXISTS (SELECT 1 FROM {resource_school} s WHERE s.resource_id = "
                    "r.resource_id AND s.school_id = :school_id)", school_id=school_id)
        filters.add(VALID_ON.format(day="today"), today=today.isoformat())
        if codes:
            filters.add(ELIGIBLE_FOR.format(codes=", ".join(f":{name}" for name in codes)),
                        **codes)
        else:
            filters.add("NOT EXISTS (SELECT 1 FROM {resource_code} c WHERE c.resource_id = "
                        "r.resource_id)")
        filters.add("(r.max_per_request IS NULL OR r.max_per_request >= :quantity) AND "
                    "r.remaining >= :quantity", quantity=quantity)
        return self._page("{resource} r", filters, ("r.registered_on", "r.resource_id"),
                          limit, after, resource_row)

    def donations(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  **filters: Any) -> dict[str, Any]:
        return self._page("{donation} d", donations_of(actor, **filters),
                          ("d.received_on", "d.donation_id"), limit, after, donation_row)

    def donation_totals(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        where = donations_of(actor, **filters)
        rows = self.store.select(
            "SELECT d.kind, d.currency, SUM(d.amount_cents) AS amount_cents, COUNT(*) AS "
            f"donations FROM {{donation}} d WHERE {' AND '.join(where.where) or '1 = 1'} "
            "GROUP BY d.kind, d.currency ORDER BY d.kind, d.currency", **where.params)
        # SUM comes back as a decimal from PostgreSQL: amounts are whole cents.
        return [{**row, "amount_cents": int(row["amount_cents"]),
                 "donations": int(row["donations"])} for row in rows]

    # Queries: volunteers.

    def volunteers(self, actor: Actor, today: date, limit: int = DEFAULT_LIMIT,
                   after: str | None = None, check_state: str | None = None,
                   expires_before: date | None = None,
                   school_id: str | None = None) -> dict[str, Any]:
        filters = of_school(actor, "v")
        filters.params["today"] = today.isoformat()
        filters.given(check_state, f"{CHECK_STATE} = :check_state", "check_state")
        filters.given(expires_before, "v.check_expires_on < :expires_before", "expires_before")
        filters.equal("v", school_id=school_id)
        return self._page("{volunteer} v", filters, ("v.registered_on", "v.volunteer_id"),
                          limit, after, volunteer_row,
                          columns=f"v.*, {CHECK_STATE} AS check_state")

    # Queries: links and referrals, which follow their case's scope.

    def resource_links(self, actor: Actor, limit: int = DEFAULT_LIMIT,
                       after: str | None = None, state: str | None = None,
                       kind: str | None = None, case_id: str | None = None,
                       resource_id: str | None = None, provider_id: str | None = None,
                       requested_from: date | None = None,
                       requested_to: date | None = None) -> dict[str, Any]:
        filters = of_case(actor, "l", "requested_by")
        filters.equal("l", state=state, kind=kind, case_id=case_id, resource_id=resource_id,
                      provider_id=provider_id)
        filters.period("l.requested_on", "requested", requested_from, requested_to)
        return self._page("{resource_link} l", filters, ("l.requested_at", "l.link_id"),
                          limit, after, link_row)

    def referral(self, referral_id: str) -> dict[str, Any] | None:
        return self.store.one("SELECT * FROM {referral} WHERE referral_id = :id",
                              id=referral_id)

    def referrals(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                  status: str | None = None, agency_kind: str | None = None,
                  case_id: str | None = None, referred_from: date | None = None,
                  referred_to: date | None = None) -> dict[str, Any]:
        filters = of_case(actor, "f", "referred_by")
        filters.equal("f", status=status, agency_kind=agency_kind, case_id=case_id)
        filters.period("f.referred_on", "referred", referred_from, referred_to)
        return self._page("{referral} f", filters, ("f.referred_on", "f.referral_id"),
                          limit, after)

    # Queries: the community network.

    def joint_activities(self, actor: Actor, limit: int = DEFAULT_LIMIT,
                         after: str | None = None, partner_id: str | None = None,
                         school_id: str | None = None, held_from: date | None = None,
                         held_to: date | None = None) -> dict[str, Any]:
        filters = of_school(actor, "a")
        filters.given(partner_id, "EXISTS (SELECT 1 FROM {activity_partner} ap WHERE "
                                  "ap.activity_id = a.activity_id AND ap.provider_id = "
                                  ":partner_id)", "partner_id")
        filters.equal("a", school_id=school_id)
        filters.period("a.held_on", "held", held_from, held_to)
        return self._page("{joint_activity} a", filters, ("a.held_on", "a.activity_id"),
                          limit, after, activity_row)

    # Queries: feedback issued to providers (9.3c).

    def issued_feedback(self, actor: Actor, limit: int = DEFAULT_LIMIT, after: str | None = None,
                        provider_id: str | None = None) -> dict[str, Any]:
        filters = of_school(actor, "f")
        filters.equal("f", provider_id=provider_id)
        return self._page("{issued_feedback} f", filters, ("f.issued_on", "f.feedback_id"),
                          limit, after, feedback_row)

    def network(self, school_id: str | None) -> tuple[list[dict[str, Any]], ...]:
        """Partners per sector, joint activities per partner sector, and all activities: of
        one school, or of every school."""
        partners = " AND ".join(serving(school_id).where) or "1 = 1"
        held = "1 = 1" if school_id is None else "a.school_id = :scope"
        params = {"scope": school_id}
        return tuple(self.store.read_together(
            (f"SELECT p.sector, COUNT(*) AS n FROM {{provider}} p WHERE {partners} "
             "GROUP BY p.sector", params),
            ("SELECT p.sector, COUNT(DISTINCT a.activity_id) AS n FROM {activity_partner} a "
             "JOIN {provider} p ON p.provider_id = a.provider_id "
             f"WHERE {held} GROUP BY p.sector", params),
            (f"SELECT COUNT(*) AS n FROM {{joint_activity}} a WHERE {held}", params),
        ))

    # Queries: provider feedback (9.3c).

    def feedback_rows(self, provider_id: str, school_id: str | None, period_from: date,
                      period_to: date) -> tuple[list[dict[str, Any]], ...]:
        """The provider's resources, and its deliveries in the period (to one school's cases,
        or to any) tallied per resource and outcome, with distinct cases per resource and in
        all: counts only, never which cases."""
        delivered = Filters("l.provider_id = :provider_id", provider_id=provider_id)
        delivered.period("l.delivered_on", "period", period_from, period_to)
        delivered.equal("l", school_id=school_id)
        where, params = " AND ".join(delivered.where), delivered.params
        return tuple(self.store.read_together(
            ("SELECT resource_id, kind FROM {resource} WHERE provider_id = :provider_id "
             "ORDER BY resource_id", {"provider_id": provider_id}),
            ("SELECT l.resource_id, COALESCE(l.outcome, 'not_recorded') AS outcome, "
             "COUNT(*) AS deliveries, SUM(l.delivered_quantity) AS units_delivered, "
             f"SUM(COALESCE(l.units_used, 0)) AS units_used FROM {{resource_link}} l "
             f"WHERE {where} GROUP BY l.resource_id, COALESCE(l.outcome, 'not_recorded')",
             params),
            ("SELECT l.resource_id, COUNT(DISTINCT l.case_id) AS clients_served FROM "
             f"{{resource_link}} l WHERE {where} GROUP BY l.resource_id", params),
            ("SELECT COUNT(DISTINCT l.case_id) AS clients_served FROM {resource_link} l "
             f"WHERE {where}", params),
        ))

    def _page(self, source: str, filters: Filters, order: tuple[str, str], limit: int,
              after: str | None, row: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
              columns: str = "*") -> dict[str, Any]:
        found = page(self.store, source, filters.where, filters.params, order, limit, after,
                     columns=columns)
        return found if row is None else {**found, "items": [row(r) for r in found["items"]]}


# Rows as queries answer them: JSON lists decoded, flags as booleans.


def provider_row(row: dict[str, Any]) -> dict[str, Any]:
    """A provider's view row as queries answer it: its public name (the school's own team
    reads an individual's from the sealed details)."""
    return {"provider_id": row["provider_id"], "version": row["version"],
            "school_id": row["school_id"], "provider_kind": row["provider_kind"],
            "sector": row["sector"], "name": row["display_name"],
            "registered_on": row["registered_on"], "sealed_details": row["sealed_details"]}


def resource_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "school_ids": json.loads(row["school_ids"]),
            "eligible_service_codes": json.loads(row["eligible_service_codes"])}


def donation_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "restricted": bool(row["restricted"]),
            "restricted_to_service_codes": json.loads(row["restricted_to_service_codes"]),
            "restricted_to_school_ids": json.loads(row["restricted_to_school_ids"])}


def volunteer_row(row: dict[str, Any]) -> dict[str, Any]:
    latest = None if row["check_result"] is None else {
        "result": row["check_result"], "checked_on": row["checked_on"],
        "expires_on": row["check_expires_on"]}
    return {"volunteer_id": row["volunteer_id"], "version": row["version"],
            "school_id": row["school_id"], "sealed_details": row["sealed_details"],
            "skills": json.loads(row["skills"]), "registered_on": row["registered_on"],
            "latest_check": latest, "check_state": row["check_state"],
            "may_work_with_students": row["check_state"] == "cleared",
            "assignment_count": row["assignment_count"], "minutes_served": row["minutes_served"]}


def link_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "requested_by"},
            "service_codes": json.loads(row["service_codes"])}


def activity_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "partner_ids": json.loads(row["partner_ids"]),
            "service_codes": json.loads(row["service_codes"])}


def feedback_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "figures": json.loads(row["figures"])}
