"""How many examples a property test tries (hypothesis's `max_examples`).

The suite tries each property the number of times written beside it, sized for CI's time.
`make properties` runs the same tests with every count multiplied by CASEBOOK_EXAMPLES_SCALE
(10 unless set): a long run finds the rare sequence of commands a short one seldom draws.
"""

from __future__ import annotations

import os

SCALE_VARIABLE = "CASEBOOK_EXAMPLES_SCALE"


def scale() -> int:
    """The multiplier CASEBOOK_EXAMPLES_SCALE sets: 1 when unset."""
    text = os.environ.get(SCALE_VARIABLE, "1")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{SCALE_VARIABLE} must be a whole number of at least 1, not {text!r}")
    return int(text)


def scaled(count: int) -> int:
    """`count` examples, times the run's scale."""
    return count * scale()
