"""`casebook keygen`: fresh secrets for the Compose deployment (deploy/compose.yaml).

It makes, for every service in `SERVICES`, a CIPHER_KEY (AES-256-GCM encryption of its stored
events) and a RabbitMQ password; a PostgreSQL password; a RabbitMQ password for the operator (the
management UI and the `casebook` CLI); the gateway's `CASEBOOK_JWT_SECRET`; the console's
`CASEBOOK_CONSOLE_SECRET` (it signs the session cookies); the archive's Ed25519 ledger signing
key; the transport key every RPC body is sealed with; and the Erlang cookie the RabbitMQ nodes of
the cluster profile (deploy/compose.cluster.yaml) share. With `--write deploy/` it writes each
as a file in `deploy/secrets/` (mode 0600; Compose mounts them into the containers, which read
them through `<VARIABLE>_FILE`), with `rabbitmq_definitions.json` (loaded by RabbitMQ at boot:
the vhost, one user per service with only the permissions that service needs, and their salted
password hashes), and `deploy/.env` if there is none. With `--tls-name` it adds a self-signed TLS
certificate for the proxy of deploy/compose.prod.yaml.

The broker is a trust boundary (DESIGN.md "Actors, access, privacy"): a service's user may
declare, write and read only its own exchange `<svc>.events`, its own RPC queue `rpc-<svc>`, its
own subscription queues `<svc>.from.<source>` (and their `.dlq`), RPC reply queues, the shared
`nameko-rpc` exchange and, to bind its subscription queues, the exchanges of the sources it
subscribes to. Topic permissions narrow the routing keys it may bind on `nameko-rpc` to its own
requests and its own replies, so no service can listen in on another's RPC traffic.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import os
import re
import secrets
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from eventsourcing.cryptography import AESCipher

from services.runtime.cli.certificate import self_signed
from services.runtime.launcher import PUBLISHERS, SERVICES

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy/rabbitmq/definitions.template.json"
OPERATOR_USER = "operator"
RPC_EXCHANGE = "nameko-rpc"
# Replies to nameko RPC are routed by the uuid of the caller's reply queue.
REPLY_ROUTING_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The user deploy/Dockerfile runs the services as: the secret files they read must be its own.
IMAGE_UID = 10001
# Read on the host by the `casebook` CLI, by no container.
OPERATOR_ONLY = frozenset({"RABBITMQ_OPERATOR_PASSWORD"})
# Read by the broker's entrypoint, as root (deploy/rabbitmq/start.sh): no Casebook process's.
ROOT_ONLY = frozenset({"RABBITMQ_ERLANG_COOKIE"})
DEFINITIONS_FILE = "rabbitmq_definitions.json"
TLS_KEY_FILE = "tls.key"
TLS_CERTIFICATE_FILE = "tls.crt"


def env_prefix(service: str) -> str:
    """The prefix of a service's own variables in `.env`: `CASES_CIPHER_KEY`, ..."""
    return re.sub(r"[^A-Z0-9]", "_", service.upper())


def rabbit_password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt + sha256(salt + password)),
    with a 4-byte random salt."""
    salt = os.urandom(4) if salt is None else salt
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode()


def subscribed_sources(service: str) -> list[str]:
    """The sources `service` subscribes to, read from the `@subscribe` entrypoints of its class."""
    from services.runtime.subscription import Subscription

    module, _, name = SERVICES[service].partition(":")
    service_class = getattr(import_module(module), name)
    sources = {
        entrypoint.source
        for _, member in inspect.getmembers(service_class, callable)
        for entrypoint in getattr(member, "nameko_entrypoints", ())
        if isinstance(entrypoint, Subscription)
    }
    return sorted(sources)


def _alternatives(names: list[str]) -> str:
    return "|".join(names)


def _literal(name: str) -> str:
    """A resource name as a regex; Casebook's names hold no metacharacter but the dot."""
    return name.replace(".", r"\.")


def permissions(service: str, sources: list[str], vhost: str) -> dict[str, str]:
    """The configure/write/read regexes of `service`'s broker user: only what it needs."""
    own = _literal(service)
    rpc_queues = [_literal(RPC_EXCHANGE), rf"rpc-{own}", r"rpc\.reply-.*"]
    # Moving a classic queue's messages into its quorum successor (services.runtime.queues):
    # the temporary queue, its lock and the exchange that moves them, named after the queue.
    migrating = [rf"rpc-{own}\.migrating(\.lock)?"]
    configure = [rf"{own}\.events", *rpc_queues, *migrating]
    write = [rf"{own}\.events", *rpc_queues, *migrating]
    read = [*rpc_queues, *migrating]
    if sources:
        subscribed = _alternatives([_literal(s) for s in sources])
        queues = rf"{own}\.from\.({subscribed})"
        # The subscription declares the source's exchange too, so that its queue can be bound
        # before the source first publishes; declaring is not publishing (no write on it).
        # Dead letters go through the subscriber's own exchange to its own `.dlq` queues.
        dead_letters = rf"{own}\.dead-letters"
        own_queues = rf"{queues}(\.dlq)?"
        moving = rf"{own_queues}\.migrating(\.lock)?"
        configure += [own_queues, moving, rf"({subscribed})\.events", dead_letters]
        write += [own_queues, moving, dead_letters]
        read += [own_queues, moving, rf"({subscribed})\.events", dead_letters]
    return {
        "user": service,
        "vhost": vhost,
        "configure": f"^({_alternatives(configure)})$",
        "write": f"^({_alternatives(write)})$",
        "read": f"^({_alternatives(read)})$",
    }


def topic_permissions(service: str, vhost: str) -> dict[str, str]:
    """On `nameko-rpc`, `service` may bind only its own requests (`<svc>.*`) and replies (a
    uuid); it may publish requests to any service and replies to any caller."""
    return {
        "user": service,
        "vhost": vhost,
        "exchange": RPC_EXCHANGE,
        "write": ".*",
        "read": f"^({_literal(service)}\\.\\*|{REPLY_ROUTING_KEY})$",
    }


# What an outside user of the broker (`casebook broker-user`) may call on `nameko-rpc`, by its
# role: reads of what was published and checks of it, none of which answers personal content.
OUTSIDE_CALLS: dict[str, dict[str, tuple[str, ...]]] = {
    # docs/integrators.md: catching up, the one call that takes no actor.
    "integrator": {source: ("events_since",) for source in PUBLISHERS},
    # docs/auditors.md: `casebook verify` (and --content), `export`, `replay`, `rebuild` (the
    # comparison) and `status`.
    "auditor": {
        source: ("events_since", "recompute_since", "verify_content", "replay", "rebuild",
                 "status", *(("verify_ledger",) if source == "archive" else ()))
        for source in PUBLISHERS
    },
}


def outside_grants(name: str, role: str, vhost: str) -> tuple[dict[str, str], dict[str, str]]:
    """The permissions and the `nameko-rpc` topic permissions of the broker user `name` of an
    integrator or an auditor (`role`): what their guides ask them to do, and nothing more.

    It configures nothing but its reply queues, which it may bind on `nameko-rpc` by uuid only
    (so whatever it declares them with touches the answers to its own calls alone): an
    integrator's queues are made for it by the operator (`outside_queues`), and it reads them,
    passively declared. A user who may declare a queue bound to a source's
    exchange chooses its arguments, and a classic queue keeps its own `x-overflow:
    reject-publish` against the backlog policy: once full, RabbitMQ would refuse the source's
    envelopes to its relay, stalling that source for every subscriber. A user who may
    configure an exchange may delete it, with every subscriber's binding. Its RPC is
    `OUTSIDE_CALLS[role]`, since whoever publishes a request names the actor it acts as."""
    replies = r"rpc\.reply-.+"
    rpc = _literal(RPC_EXCHANGE)
    calls = [rf"{_literal(source)}\.({_alternatives(list(methods))})"
             for source, methods in OUTSIDE_CALLS[role].items()]
    queues = [queue["name"] for queue in outside_queues(name, role, vhost)[0]]
    permissions = {
        "user": name,
        "vhost": vhost,
        "configure": f"^({replies})$",
        "write": f"^({_alternatives([replies, rpc])})$",
        "read": f"^({_alternatives([replies, rpc, *map(_literal, queues)])})$",
    }
    topic = {
        "user": name,
        "vhost": vhost,
        "exchange": RPC_EXCHANGE,
        "write": f"^({_alternatives(calls)})$",
        "read": f"^{REPLY_ROUTING_KEY}$",
    }
    return permissions, topic


def outside_queues(
    name: str, role: str, vhost: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The queues an integrator `name` reads, `<name>.from.<source>` for every source, each
    bound to that source's exchange with `#` (its whole stream, in order), and their bindings,
    as RabbitMQ definitions. Quorum, with a single active consumer: several instances of the
    integrator's subscriber take the stream in turn, never side by side. An auditor reads no
    queue: its commands are calls."""
    if role != "integrator":
        return [], []
    queues = [{
        "name": f"{name}.from.{source}", "vhost": vhost, "durable": True, "auto_delete": False,
        "arguments": {"x-queue-type": "quorum", "x-single-active-consumer": True},
    } for source in PUBLISHERS]
    bindings = [{
        "source": f"{source}.events", "vhost": vhost, "destination": f"{name}.from.{source}",
        "destination_type": "queue", "routing_key": "#", "arguments": {},
    } for source in PUBLISHERS]
    return queues, bindings


def declared_exchanges(vhost: str) -> list[dict[str, Any]]:
    """The sources' exchanges and `nameko-rpc` as RabbitMQ definitions, each as its services
    declare it (services.runtime.relay.events_exchange, nameko's `get_rpc_exchange`): there
    from the broker's boot, for the bindings of `outside_queues` and for callers that may not
    declare them (services.runtime.replies), before any service has run."""
    return [{
        "name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
        "internal": False, "arguments": {},
    } for name in [*(f"{source}.events" for source in PUBLISHERS), RPC_EXCHANGE]]


def backlog_policy_name(name: str) -> str:
    return f"casebook-backlog-{name}"


def backlog_policy(name: str, vhost: str, max_backlog: int) -> dict[str, Any]:
    """At most `max_backlog` envelopes wait in any of the outside user `name`'s queues, the
    oldest dropped first: a queue nobody reads any more would otherwise fill the broker's disk
    until RabbitMQ blocks every publisher, and Casebook with them. What is dropped is not lost
    to its reader, who sees the gap in `prev_position` and fetches it from `events_since`
    (docs/integrators.md); `reject-publish` would instead refuse the source's relay, which
    would send again and again."""
    return {
        "vhost": vhost,
        "name": backlog_policy_name(name),
        "pattern": rf"^{_literal(name)}\.",
        "apply-to": "queues",
        "priority": 0,
        "definition": {"max-length": max_backlog, "overflow": "drop-head"},
    }


def vhost_of(document: dict[str, Any]) -> str:
    """The one vhost of RabbitMQ definitions (Casebook's: every exchange and queue is there)."""
    name: str = document["vhosts"][0]["name"]
    return name


def definitions(passwords: dict[str, str], template: Path = TEMPLATE) -> dict[str, Any]:
    """RabbitMQ definitions: the template's vhost and operator, one user per service, and the
    exchanges (`declared_exchanges`)."""
    document: dict[str, Any] = json.loads(template.read_text(encoding="utf-8"))
    vhost = vhost_of(document)
    document["exchanges"] = declared_exchanges(vhost)
    for user in document["users"]:
        user["password_hash"] = rabbit_password_hash(passwords[user["name"]])
        user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
    for service in SERVICES:
        document["users"].append({
            "name": service,
            "password_hash": rabbit_password_hash(passwords[service]),
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": [],
        })
        document["permissions"].append(permissions(service, subscribed_sources(service), vhost))
        document.setdefault("topic_permissions", []).append(topic_permissions(service, vhost))
    return document


def fresh_password() -> str:
    # URL-safe: passwords go into AMQP URIs unquoted.
    return secrets.token_urlsafe(24)


def ledger_signing_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return base64.b64encode(raw).decode()


def secret_file_name(variable: str) -> str:
    """A secret's file in `deploy/secrets/`, which is also its name in Compose."""
    return variable.lower()


def fresh_secrets() -> dict[str, str]:
    """Every secret the Compose deployment reads, freshly made, by variable name."""
    values = {
        "POSTGRES_PASSWORD": fresh_password(),
        "RABBITMQ_OPERATOR_PASSWORD": fresh_password(),
        "CASEBOOK_JWT_SECRET": secrets.token_urlsafe(48),
        "CASEBOOK_CONSOLE_SECRET": secrets.token_urlsafe(48),
        "CASEBOOK_LEDGER_SIGNING_KEY": ledger_signing_key(),
        "CASEBOOK_TRANSPORT_KEY": AESCipher.create_key(32),
        # What the nodes of the cluster profile (compose.cluster.yaml) share, and what lets
        # whoever holds it run code on them through Erlang distribution: never world-readable.
        "RABBITMQ_ERLANG_COOKIE": secrets.token_urlsafe(32),
    }
    for service in SERVICES:
        values[f"{env_prefix(service)}_AMQP_PASSWORD"] = fresh_password()
        values[f"{env_prefix(service)}_CIPHER_KEY"] = AESCipher.create_key(32)
    return values


def broker_passwords(values: dict[str, str]) -> dict[str, str]:
    passwords = {OPERATOR_USER: values["RABBITMQ_OPERATOR_PASSWORD"]}
    for service in SERVICES:
        passwords[service] = values[f"{env_prefix(service)}_AMQP_PASSWORD"]
    return passwords


WARNING = (
    "Keep the secrets directory, and a copy of it, apart from the backups of the stores: each\n"
    "*_cipher_key decrypts one service's stored events, and without it they are lost for good.\n"
    "Never regenerate them for a running deployment."
)

ENV_FILE = """\
# deploy/.env: the settings deploy/compose.yaml reads (docs/operators.md lists them all).
# No secret belongs here: those are the files in secrets/, mounted into the containers.
# Compose names volumes and containers after the project: casebook_postgres-data, ...
COMPOSE_PROJECT_NAME=casebook
# The `iss` and `aud` every token must carry (production checks both): these are what
# `casebook token` mints with; with an identity provider, set its issuer and Casebook's audience.
CASEBOOK_JWT_ISSUER=casebook
CASEBOOK_JWT_AUDIENCE=casebook-api
"""


def secrets_text(values: dict[str, str]) -> str:
    """The secrets as `VARIABLE=value` lines, to be read rather than written anywhere."""
    made = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    lines = [f"# Casebook secrets, made by `casebook keygen` at {made}."]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--write", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write the secrets as files in DIRECTORY/secrets/ (e.g. deploy/), with the "
                   "RabbitMQ definitions, and DIRECTORY/.env if missing, instead of printing them.")
@click.option("--tls-name", "tls_names", multiple=True, metavar="NAME",
              help="With --write: also a self-signed TLS certificate for this host name or IP "
                   "address (repeatable), secrets/tls.crt and tls.key, to try the TLS proxy.")
@click.option("--force", is_flag=True,
              help="Overwrite existing secret files. Their CIPHER_KEYs are lost: stores "
                   "encrypted with them become unreadable.")
@click.option("--missing", is_flag=True,
              help="With --write: only the secret files DIRECTORY/secrets/ lacks (after an "
                   "upgrade that adds one); every existing file is left as it is.")
def keygen(directory: Path | None, tls_names: tuple[str, ...], force: bool,
           missing: bool) -> None:
    """Make fresh secrets for the Compose deployment: a CIPHER_KEY and a RabbitMQ user per
    service, the PostgreSQL password, the JWT secret, the ledger signing key, the key RPC
    bodies are sealed with and the cluster's Erlang cookie."""
    values = fresh_secrets()
    if missing:
        if directory is None or tls_names or force:
            raise click.UsageError("--missing goes with --write, and without --tls-name or --force")
        _write_missing(directory / "secrets", values)
        return
    if directory is None:
        if tls_names:
            raise click.UsageError("--tls-name writes files: give --write too")
        click.echo(secrets_text(values), nl=False)
        click.echo("casebook: printed only; `casebook keygen --write deploy/` writes them as "
                   "the files Compose reads, with the RabbitMQ definitions.", err=True)
        return
    secrets_dir = directory / "secrets"
    names = [secret_file_name(variable) for variable in values]
    if tls_names:
        names += [TLS_KEY_FILE, TLS_CERTIFICATE_FILE]
    existing = [name for name in names if (secrets_dir / name).exists()]
    if existing and not force:
        raise click.ClickException(
            f"{secrets_dir} holds {', '.join(existing)}; not overwriting them. Its cipher keys "
            "decrypt the stores: a new key makes every stored event unreadable. Use --force only "
            "for a deployment with no data, or after moving the old files somewhere safe."
        )
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for variable, value in values.items():
        path = secrets_dir / secret_file_name(variable)
        write_file(path, value, 0o600)
        if variable not in OPERATOR_ONLY | ROOT_ONLY:
            _give_to_image_user(path)
    # Readable by RabbitMQ's own user in its container; it holds salted hashes of long random
    # passwords, not the passwords.
    document = definitions(broker_passwords(values))
    write_file(secrets_dir / DEFINITIONS_FILE, json.dumps(document, indent=2), 0o644)
    if tls_names:
        # Read by the proxy's master process, which runs as root.
        key_pem, certificate_pem = self_signed(tls_names)
        write_file(secrets_dir / TLS_KEY_FILE, key_pem.decode(), 0o600)
        write_file(secrets_dir / TLS_CERTIFICATE_FILE, certificate_pem.decode(), 0o644)
    env_path = directory / ".env"
    if not env_path.exists():
        write_file(env_path, ENV_FILE, 0o644)
    click.echo(f"casebook: wrote {len(names)} files to {secrets_dir} (and {env_path} if missing).")
    if os.geteuid() != 0:
        click.echo(f"casebook: the services run as uid {IMAGE_UID} in their containers and read "
                   f"these files: sudo chown {IMAGE_UID} {secrets_dir}/*_key "
                   f"{secrets_dir}/*_secret {secrets_dir}/*_amqp_password "
                   f"{secrets_dir}/postgres_password")
    click.echo(WARNING)


def _write_missing(secrets_dir: Path, values: dict[str, str]) -> None:
    """The secrets `secrets_dir` lacks, written; a broker password is refused, as RabbitMQ's
    definitions would have to change with it (a new deployment's keygen writes both)."""
    absent = {variable: value for variable, value in values.items()
              if not (secrets_dir / secret_file_name(variable)).exists()}
    users = sorted(secret_file_name(variable) for variable in absent
                   if variable.endswith("AMQP_PASSWORD") or variable in OPERATOR_ONLY)
    if users:
        raise click.ClickException(
            f"{secrets_dir} lacks {', '.join(users)}: a broker user's password goes with "
            "RabbitMQ's definitions, which --missing leaves as they are. Add the user by hand "
            "(docs/operators.md, Secrets).")
    for variable, value in absent.items():
        path = secrets_dir / secret_file_name(variable)
        write_file(path, value, 0o600)
        if variable not in ROOT_ONLY:
            _give_to_image_user(path)
    written = ", ".join(secret_file_name(variable) for variable in absent) or "nothing"
    click.echo(f"casebook: wrote {written} to {secrets_dir}; left every existing file as it was.")


def _give_to_image_user(path: Path) -> None:
    """Only root may give a file away; anyone else is told how (see keygen)."""
    if os.geteuid() == 0:
        os.chown(path, IMAGE_UID, -1)
def write_file(path: Path, text: str, mode: int) -> None:
    """Replaces the file whole, never half-written, created with `mode` from the start."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
