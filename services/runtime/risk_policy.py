"""The risk policy (T/JHSX 001—2026 4.1, 9.6b): for each risk type × level, whether it threatens
life or safety, and who must acknowledge it within what time.

Two services read it and must agree: cases decides with it which risks allow life-safety work
after consent is withdrawn and disclosure despite confidentiality (4.1), and records that
decision in the risk's events; supervision escalates by it (9.6b). So it lives here, once.

Documented defaults:

- Life safety (4.1: protecting life comes before every other principle): every risk at level
  `critical`; and `suicide` and `self_harm` from level `high`, because a worker who rates such a
  risk high already fears for the student's life.
- Ladders (hours unless said), each step a role that must acknowledge and the time it has:

| level    | step 1              | step 2             | step 3           |
|----------|---------------------|--------------------|------------------|
| critical | supervisor 1        | school_admin 1     | operator 2       |
| high     | supervisor 4        | school_admin 8     | operator 24      |
| medium   | social_worker 24    | supervisor 48      | school_admin 72  |
| low      | social_worker 5 days| supervisor 5 days  |                  |

  At `high`, the life-threatening types (suicide, self_harm, abuse, violence) take the critical
  ladder; a life-safety risk takes the critical ladder whatever its level.

`CASEBOOK_ESCALATION_POLICY` may name a JSON file whose rows replace rows of the table, each
either a ladder (role, minutes) or an object with `ladder` and/or `life_safety`:
`{"bullying/medium": [["supervisor", 120], ["school_admin", 240]],
  "trauma/high": {"life_safety": true}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from contracts.events.cases import RISK_LEVELS, RISK_TYPES
from contracts.events.supervision import ACKNOWLEDGING_ROLES
from services.runtime.settings import settings

HOUR = 60
DAY = 24 * HOUR

Ladder = tuple[tuple[str, int], ...]

LEVEL_LADDERS: dict[str, Ladder] = {
    "critical": (("supervisor", 1 * HOUR), ("school_admin", 1 * HOUR), ("operator", 2 * HOUR)),
    "high": (("supervisor", 4 * HOUR), ("school_admin", 8 * HOUR), ("operator", 24 * HOUR)),
    "medium": (("social_worker", 24 * HOUR), ("supervisor", 48 * HOUR),
               ("school_admin", 72 * HOUR)),
    "low": (("social_worker", 5 * DAY), ("supervisor", 5 * DAY)),
}
LIFE_THREATENING_TYPES = ("suicide", "self_harm", "abuse", "violence")
LIFE_SAFETY_FROM_HIGH = ("suicide", "self_harm")
# Before the policy decided it, a risk threatened life or safety at this level only: events
# recorded then carry no decision and are read by that rule.
LEGACY_LIFE_SAFETY_LEVEL = "critical"


@dataclass(frozen=True)
class Row:
    life_safety: bool
    ladder: Ladder


class RiskPolicy:
    def __init__(self, rows: dict[tuple[str, str], Row]) -> None:
        self.rows = rows

    def life_safety(self, risk_type: str, level: str) -> bool:
        return self.rows[(risk_type, level)].life_safety

    def ladder(self, risk_type: str, level: str, life_safety: bool) -> list[dict[str, Any]]:
        # 4.1: protecting life overrides everything, so a life-safety risk is handled as critical.
        row = self.rows[(risk_type, "critical" if life_safety else level)]
        return [{"role": role, "minutes": minutes} for role, minutes in row.ladder]


def default_rows() -> dict[tuple[str, str], Row]:
    rows = {}
    for risk_type in RISK_TYPES:
        for level in RISK_LEVELS:
            ladder = LEVEL_LADDERS[level]
            if level == "high" and risk_type in LIFE_THREATENING_TYPES:
                ladder = LEVEL_LADDERS["critical"]
            life_safety = level == "critical" or (
                level == "high" and risk_type in LIFE_SAFETY_FROM_HIGH)
            rows[(risk_type, level)] = Row(life_safety, ladder)
    return rows


def risk_policy(path: Path | None = None) -> RiskPolicy:
    """The defaults with the rows of `path` (CASEBOOK_ESCALATION_POLICY) laid over them."""
    rows = default_rows()
    path = path or settings().runtime.risk_policy_file
    if path:
        for key, value in json.loads(Path(path).read_text(encoding="utf-8")).items():
            risk_type, _, level = key.partition("/")
            if (risk_type, level) not in rows:
                raise ValueError(f"{path}: {key!r} is not a risk type/level of the table")
            rows[(risk_type, level)] = _overlay(path, key, rows[(risk_type, level)], value)
    return RiskPolicy(rows)


def _overlay(path: Path, key: str, row: Row, value: Any) -> Row:
    change = value if isinstance(value, dict) else {"ladder": value}
    unknown = set(change) - {"ladder", "life_safety"}
    if unknown:
        raise ValueError(f"{path}: {key!r} has unknown settings {sorted(unknown)}")
    if "life_safety" in change:
        if not isinstance(change["life_safety"], bool):
            raise ValueError(f"{path}: {key!r} life_safety must be true or false")
        row = replace(row, life_safety=change["life_safety"])
    if "ladder" in change:
        ladder = tuple((str(role), int(minutes)) for role, minutes in change["ladder"])
        if not ladder or any(r not in ACKNOWLEDGING_ROLES or m < 1 for r, m in ladder):
            raise ValueError(f"{path}: {key!r} needs steps of (acknowledging role, minutes)")
        row = replace(row, ladder=ladder)
    return row
