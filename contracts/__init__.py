"""The only code services share about each other: the envelope, the contract events and their
registry, the §7 service taxonomy, and the error codes."""

from contracts import events as _events  # noqa: F401  (registers every contract event)
from contracts.envelope import GENESIS_HASH, canonical_json, envelope_hash, seal
from contracts.registry import all_events, get, validate_envelope, validate_payload

__all__ = [
    "GENESIS_HASH",
    "all_events",
    "canonical_json",
    "envelope_hash",
    "get",
    "seal",
    "validate_envelope",
    "validate_payload",
]
