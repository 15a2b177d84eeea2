"""The supervision application: schools and staff (§6, 8.1, 9.1), risk escalation (9.6), quality
control (9.5, 10.3), complaints and evaluations (9.2c, 10.1, 10.2), and the compliance report.
Each area is its own desk (module); this class puts them together over one store."""

from __future__ import annotations

from services.supervision.casefeed import CaseFeed
from services.supervision.compliance import ComplianceDesk
from services.supervision.publish import PUBLICATIONS


class SupervisionApplication(ComplianceDesk, CaseFeed):
    service = "supervision"
    publications = PUBLICATIONS
