"""The journeys tests drive Casebook with: the same ones the demo and the benchmark use."""

from services.runtime.cli.journeys import (
    case_journey as drive_case,
)
from services.runtime.cli.journeys import (
    client_id,
    events_per_case,
    intervention,
    ready_case,
    register_student,
    staff_school,
)

__all__ = [
    "client_id",
    "drive_case",
    "events_per_case",
    "intervention",
    "ready_case",
    "register_student",
    "staff_school",
]
