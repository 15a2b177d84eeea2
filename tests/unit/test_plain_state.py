"""A stored event's state read as plain JSON (what scans of many events read) holds exactly what
the mapper reads: the same values of the same types, encrypted at rest or not."""

import math

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.runtime.context import Actor, acting_as
from services.runtime.domain import CasebookAggregate
from services.runtime.store import CasebookApplication
from tests.support.examples import scaled

WORKER = Actor("worker-1", "social_worker", "JD001")


class Jotting(CasebookAggregate):
    @event("Written")
    def __init__(self, school_id: str, content: object) -> None:
        self.school_id = school_id
        self.content = content


class PlainStateApplication(CasebookApplication):
    service = "plainstate"


# What JSON can hold, and what orjson alone would not read exactly: integers beyond 64 bits,
# NaN and the infinities (Python's json writes them), runs of digits in text, any character a
# store can hold (a lone surrogate it cannot: the mapper refuses to store it).
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.text(st.characters(exclude_categories=("Cs",))) | st.from_regex(r"[0-9]{15,25}")
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=10,
)


def _exact(value: object) -> object:
    """`value` with each number's type kept (1 and 1.0 are equal in Python) and NaN comparable."""
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


@pytest.fixture(scope="module", params=["plain", "encrypted"])
def app(request, tmp_path_factory):
    env = {"SQLITE_DBNAME": str(tmp_path_factory.mktemp("plain") / "plain.sqlite")}
    if request.param == "encrypted":
        env["CIPHER_KEY"] = AESCipher.create_key(32)
    return PlainStateApplication(env=env)


@pytest.mark.properties
@settings(max_examples=scaled(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_JSON)
def test_a_plain_state_holds_what_the_mapper_reads(app, content):
    with acting_as(WORKER):
        jotting = Jotting(school_id="JD001", content=content)
    stored = app.mapper.to_stored_event(jotting.collect_events()[0])
    plain = app.plain_state(stored.state)
    assert _exact(plain["content"]) == _exact(app.mapper.to_domain_event(stored).content)
    assert app.decode_value(plain["timestamp"]) == jotting.created_on

