"""Every setting of Casebook's own, in one place: its variable, type, default and why
(docs/operators.md lists them for operators; a test keeps the two in step).

Secrets may come from files (`<NAME>_FILE`, services.runtime.secrets). `settings()` reads the
environment through environs, which names the variable and the rule in
every error ("CASEBOOK_RELAY_BATCH: Must be greater than or equal to 1."), so a service with a
wrong setting refuses to start and says why. The values are parsed again only when the
environment changed, so reading them at each use is cheap and a test can change one.

The store's variables (`POSTGRES_*`, `SQLITE_DBNAME`, `CIPHER_KEY`) are eventsourcing's own,
assembled for it by `services.runtime.store.store_env`.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from environs import Env
from marshmallow import ValidationError, validate

from services.runtime.secrets import rotated_keys, secret_value, with_amqp_password

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
TRANSPORT_KEY = "CASEBOOK_TRANSPORT_KEY"
TRANSPORT_RETIRED_KEYS = "CASEBOOK_TRANSPORT_RETIRED_KEYS"


class ConfigurationError(Exception):
    """A setting is missing or wrong: the service refuses to start, saying which and why."""


@dataclass(frozen=True)
class Runtime:
    """What every service reads."""

    amqp_uri: str
    data_dir: Path
    # production: none of the development conveniences (a generated token secret, tokens
    # without issuer and audience, a development sign-in).
    production: bool
    service: str  # the service's name in every log record (set by `casebook up` and Compose)
    relay_batch: int  # events the outbox relay reads and publishes per batch
    handler_attempts: int  # tries of a subscription handler before its dead letter
    clock_file: Path | None  # a file holding the instant the clock reads (tests, drills)
    # The schools' time zone: every calendar date a record holds (a session held on, a letter
    # received on, a reply due by) is a date there, not in UTC, which is yesterday in China
    # until 08:00.
    timezone: ZoneInfo
    risk_policy_file: Path | None  # rows overriding the risk policy (4.1, 9.6b)
    # host:port where the process serves Prometheus metrics, or several to take the first free
    # of (instances of one service on one host, compose.cluster.yaml); empty: no listener at
    # all, so that nothing listens unless asked and instances never fight over a port.
    metrics_addresses: tuple[str, ...]
    # The commit the running code was built from, as the image was labelled: which build runs
    # where, beside the version, while an upgrade moves one service at a time.
    revision: str
    # A file the service touches each time its own ping comes back through the broker
    # (services.runtime.liveness), every `liveness_seconds`: the container's health check reads
    # its age. None: no ping.
    liveness_file: Path | None
    liveness_seconds: float
    # The key RPC bodies are sealed with on their way through RabbitMQ, then the earlier ones
    # still opened (services.runtime.transport); empty: plain JSON.
    transport_keys: tuple[str, ...]


@dataclass(frozen=True)
class Gateway:
    address: str
    jwt_secret: str | None
    jwt_public_key: Path | None
    jwt_jwks: Path | None
    jwt_issuer: str | None
    jwt_audience: str | None
    max_body_bytes: int
    rpc_timeout: float  # a request's deadline: no command is carried out after it
    ready_timeout: float
    settle_timeout: float  # how long a service has to say what became of a command
    idempotency_ttl_hours: float


@dataclass(frozen=True)
class Console:
    address: str
    secret: str | None  # signs the session cookies; in development one is derived
    dev_sign_in: bool  # pick a demo person instead of signing in (never in production)
    session_hours: float  # a session ends this long after sign-in
    idle_minutes: float  # and this long after its last request (a computer left signed in)
    # OpenID Connect sign-in (authorization code with PKCE) at the organisation's provider.
    oidc_issuer: str | None
    oidc_client_id: str | None
    oidc_client_secret: str | None  # none for a public client: PKCE alone binds the code
    oidc_scopes: str
    oidc_role_claim: str  # the claim holding the person's role at the provider
    oidc_school_claim: str  # the claim holding their school
    oidc_roles: dict[str, str]  # the provider's role value → Casebook's role


@dataclass(frozen=True)
class Cases:
    # 6.2.1.2, 9.1a: cases go only to workers supervision says are eligible; tests of other
    # services, which run without supervision, turn it off.
    require_eligible_workers: bool
    # Two weeks: long enough to meet the client's family and teachers (8.3.2a), short enough
    # that a problem raised at intake does not wait half a term.
    assessment_due_days: int
    # A month from intake: the assessment's two weeks plus two to agree the plan with the
    # client and, for a minor, the guardian (4.2).
    plan_due_days: int
    # A school week and its weekend: a student who wrote should hear back within a week.
    letter_reply_days: int


@dataclass(frozen=True)
class Archive:
    retention_years: str  # per-category overrides such as "GA=10,KT=3" (9.4e)
    ledger_signing_key: str | None  # base64 of a raw 32-byte Ed25519 private key
    ledger_trusted_keys: tuple[str, ...]  # earlier keys' public halves, after a rotation
    checkpoint_every_entries: int
    checkpoint_every_minutes: float
    checkpoint_tick_seconds: float
    # A full verification of a long ledger walks ranges of it in processes side by side.
    verify_processes: int
    verify_range_least: int  # stored events a process must have to walk, or it is not started


@dataclass(frozen=True)
class Supervision:
    supervision_interval_days: int  # 9.1c: longest time without supervision
    assessment_days: int  # 9.5c: intake → first assessment
    plan_days: int  # 9.5c: first assessment → plan adopted
    intervention_gap_days: int  # 9.5c: open case without an intervention
    follow_up_grace_days: int  # 9.2b: follow-up past its due date
    letter_days: int  # 8.2.2: letter without an answer
    complaint_acknowledge_days: int  # 10.1.2
    complaint_answer_days: int  # 9.2c, 10.1.2
    supervisor_min_years: int  # 6.2.2.1: a stand-in for MZ/T 166—2021 8.1
    timer_seconds: int  # how often deadlines are checked


@dataclass(frozen=True)
class Settings:
    runtime: Runtime
    gateway: Gateway
    console: Console
    cases: Cases
    archive: Archive
    supervision: Supervision


_cache: tuple[dict[bytes, bytes], Settings] | None = None


def settings() -> Settings:
    """The settings the environment holds now. Projections and commands ask per event, so the
    environment is compared as the process holds it (`os.environ`'s own bytes mapping: one C
    dict comparison), not decoded and sorted on every call, which cost a sixth of a views
    rebuild."""
    global _cache
    environ = os.environ._data  # type: ignore[attr-defined]
    if _cache is None or _cache[0] != environ:
        _cache = (dict(environ), _read(Env(eager=True)))
    return _cache[1]


def _transport_keys() -> tuple[str, ...]:
    """CASEBOOK_TRANSPORT_KEY, then CASEBOOK_TRANSPORT_RETIRED_KEYS (newest first), each an AES
    key in base64; a retired key without a current one is refused, as nothing would seal."""
    current = secret_value(TRANSPORT_KEY)
    keys = rotated_keys(current, secret_value(TRANSPORT_RETIRED_KEYS))
    if keys and not current:
        raise ConfigurationError(f"{TRANSPORT_RETIRED_KEYS} is set without {TRANSPORT_KEY}: "
                                 "set the current key too.")
    for index, key in enumerate(keys):
        name = TRANSPORT_KEY if index == 0 else TRANSPORT_RETIRED_KEYS
        try:
            length = len(base64.b64decode(key, validate=True))
        except binascii.Error:
            length = 0
        if length not in (16, 24, 32):
            raise ConfigurationError(f"{name}: Must be an AES key of 16, 24 or 32 bytes in "
                                     "base64 (casebook keygen makes one).")
    return tuple(keys)


def _read(env: Env) -> Settings:
    at_least_1 = validate.Range(min=1)
    not_negative = validate.Range(min=0)
    positive = validate.Range(min=0, min_inclusive=False)
    environment = env.str("CASEBOOK_ENVIRONMENT", "development",
                          validate=validate.OneOf(("development", "production")))
    return Settings(
        runtime=Runtime(
            # With the password of AMQP_PASSWORD(_FILE) when set (services.runtime.secrets).
            amqp_uri=with_amqp_password(env.str("AMQP_URI", DEFAULT_AMQP_URI)),
            data_dir=Path(env.str("CASEBOOK_DATA_DIR", "./var")).resolve(),
            production=environment == "production",
            service=env.str("CASEBOOK_SERVICE", ""),
            relay_batch=env.int("CASEBOOK_RELAY_BATCH", 100, validate=at_least_1),
            handler_attempts=env.int("CASEBOOK_HANDLER_ATTEMPTS", 3, validate=at_least_1),
            clock_file=env.path("CASEBOOK_CLOCK_FILE", None),
            timezone=ZoneInfo(env.str("CASEBOOK_TIMEZONE", "Asia/Shanghai", validate=_is_zone)),
            risk_policy_file=env.path("CASEBOOK_ESCALATION_POLICY", None),
            metrics_addresses=tuple(filter(None, env.str(
                "CASEBOOK_METRICS_ADDRESS", "",
                validate=validate.Regexp(
                    r"^$|^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$",
                    error="Must be host:port, e.g. 127.0.0.1:9101, or several separated by "
                          "commas, e.g. 127.0.0.1:9101,127.0.0.1:9111."),
            ).split(","))),
            liveness_file=env.path("CASEBOOK_LIVENESS_FILE", None),
            liveness_seconds=env.float(
                "CASEBOOK_LIVENESS_SECONDS", 10.0,
                # Compose's health check wants the file touched within the last minute.
                validate=validate.Range(min=0, max=30, min_inclusive=False,
                                        error="Must be more than 0 and at most 30 (seconds).")),
            revision=env.str("CASEBOOK_REVISION", "unknown"),
            transport_keys=_transport_keys(),
        ),
        gateway=Gateway(
            address=env.str("WEB_SERVER_ADDRESS", "127.0.0.1:8000"),
            jwt_secret=secret_value("CASEBOOK_JWT_SECRET") or None,
            jwt_public_key=env.path("CASEBOOK_JWT_PUBLIC_KEY", None),
            jwt_jwks=env.path("CASEBOOK_JWT_JWKS", None),
            jwt_issuer=env.str("CASEBOOK_JWT_ISSUER", None) or None,
            jwt_audience=env.str("CASEBOOK_JWT_AUDIENCE", None) or None,
            max_body_bytes=env.int("CASEBOOK_GATEWAY_MAX_BODY_BYTES", 1_048_576,
                                   validate=at_least_1),
            rpc_timeout=env.float("CASEBOOK_GATEWAY_RPC_TIMEOUT", 30.0, validate=positive),
            ready_timeout=env.float("CASEBOOK_GATEWAY_READY_TIMEOUT", 2.0, validate=positive),
            settle_timeout=env.float("CASEBOOK_GATEWAY_SETTLE_TIMEOUT", 5.0, validate=positive),
            idempotency_ttl_hours=env.float("CASEBOOK_IDEMPOTENCY_TTL_HOURS", 24.0,
                                            validate=positive),
        ),
        console=Console(
            address=env.str("CONSOLE_ADDRESS", "127.0.0.1:8080"),
            secret=secret_value("CASEBOOK_CONSOLE_SECRET") or None,
            dev_sign_in=env.bool("CASEBOOK_CONSOLE_DEV_SIGN_IN", False),
            session_hours=env.float("CASEBOOK_CONSOLE_SESSION_HOURS", 12.0, validate=positive),
            idle_minutes=env.float("CASEBOOK_CONSOLE_IDLE_MINUTES", 30.0, validate=positive),
            oidc_issuer=env.str("CASEBOOK_CONSOLE_OIDC_ISSUER", None) or None,
            oidc_client_id=env.str("CASEBOOK_CONSOLE_OIDC_CLIENT_ID", None) or None,
            oidc_client_secret=secret_value("CASEBOOK_CONSOLE_OIDC_CLIENT_SECRET") or None,
            oidc_scopes=env.str("CASEBOOK_CONSOLE_OIDC_SCOPES", "openid profile"),
            oidc_role_claim=env.str("CASEBOOK_CONSOLE_OIDC_ROLE_CLAIM", "role"),
            oidc_school_claim=env.str("CASEBOOK_CONSOLE_OIDC_SCHOOL_CLAIM", "school_id"),
            oidc_roles=env.dict("CASEBOOK_CONSOLE_OIDC_ROLES", {}),
        ),
        cases=Cases(
            require_eligible_workers=env.bool("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", True),
            assessment_due_days=env.int("CASEBOOK_ASSESSMENT_DUE_DAYS", 14,
                                        validate=not_negative),
            plan_due_days=env.int("CASEBOOK_PLAN_DUE_DAYS", 30, validate=not_negative),
            letter_reply_days=env.int("CASEBOOK_LETTER_REPLY_DAYS", 7, validate=not_negative),
        ),
        archive=Archive(
            retention_years=env.str("CASEBOOK_RETENTION_YEARS", ""),
            ledger_signing_key=secret_value("CASEBOOK_LEDGER_SIGNING_KEY") or None,
            ledger_trusted_keys=tuple(env.list("CASEBOOK_LEDGER_TRUSTED_KEYS", [])),
            checkpoint_every_entries=env.int("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", 1000,
                                             validate=at_least_1),
            checkpoint_every_minutes=env.float("CASEBOOK_CHECKPOINT_EVERY_MINUTES", 60.0,
                                               validate=positive),
            checkpoint_tick_seconds=env.float("CASEBOOK_CHECKPOINT_TICK_SECONDS", 5.0,
                                              validate=positive),
            # The cores this process may run on (a container's cpuset), not the host's count.
            verify_processes=env.int("CASEBOOK_VERIFY_PROCESSES", len(os.sched_getaffinity(0)),
                                     validate=at_least_1),
            # About two seconds' walk: half a second to start a process is then worth it.
            verify_range_least=env.int("CASEBOOK_VERIFY_RANGE_LEAST", 200_000,
                                       validate=at_least_1),
        ),
        supervision=Supervision(
            supervision_interval_days=env.int("CASEBOOK_SUPERVISION_INTERVAL_DAYS", 30,
                                              validate=not_negative),
            assessment_days=env.int("CASEBOOK_QC_ASSESSMENT_DAYS", 14, validate=not_negative),
            plan_days=env.int("CASEBOOK_QC_PLAN_DAYS", 14, validate=not_negative),
            intervention_gap_days=env.int("CASEBOOK_QC_INTERVENTION_GAP_DAYS", 30,
                                          validate=not_negative),
            follow_up_grace_days=env.int("CASEBOOK_QC_FOLLOW_UP_GRACE_DAYS", 7,
                                         validate=not_negative),
            letter_days=env.int("CASEBOOK_QC_LETTER_DAYS", 7, validate=not_negative),
            complaint_acknowledge_days=env.int("CASEBOOK_COMPLAINT_ACKNOWLEDGE_DAYS", 2,
                                               validate=not_negative),
            complaint_answer_days=env.int("CASEBOOK_COMPLAINT_ANSWER_DAYS", 15,
                                          validate=not_negative),
            supervisor_min_years=env.int("CASEBOOK_SUPERVISOR_MIN_YEARS", 3,
                                         validate=not_negative),
            timer_seconds=env.int("CASEBOOK_SUPERVISION_TIMER_SECONDS", 60,
                                  validate=at_least_1),
        ),
    )



def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError("Must be an IANA time zone name, e.g. Asia/Shanghai.") from error
    return True
