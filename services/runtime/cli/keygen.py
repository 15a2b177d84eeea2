"""`casebook keygen`: fresh secrets for the Compose deployment (deploy/compose.yaml).

It makes, for every service in `SERVICES`, a CIPHER_KEY (AES-256-GCM encryption of its stored
events) and a RabbitMQ password; a PostgreSQL password; a RabbitMQ password for the operator (the
management UI and the `casebook` CLI); the gateway's `CASEBOOK_JWT_SECRET`; and the archive's
Ed25519 ledger signing key. With `--write deploy/` it writes `deploy/.env` (read by Compose) and
`deploy/rabbitmq/definitions.json` (loaded by RabbitMQ at boot: the vhost, one user per service
with only the permissions that service needs, and their salted password hashes).

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

from services.runtime.launcher import SERVICES

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy/rabbitmq/definitions.template.json"
OPERATOR_USER = "operator"
RPC_EXCHANGE = "nameko-rpc"
# Replies to nameko RPC are routed by the uuid of the caller's reply queue.
REPLY_ROUTING_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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
    configure = [rf"{own}\.events", *rpc_queues]
    write = [rf"{own}\.events", *rpc_queues]
    read = list(rpc_queues)
    if sources:
        subscribed = _alternatives([_literal(s) for s in sources])
        queues = rf"{own}\.from\.({subscribed})"
        # The subscription declares the source's exchange too, so that its queue can be bound
        # before the source first publishes; declaring is not publishing (no write on it).
        # Dead letters go through the subscriber's own exchange to its own `.dlq` queues.
        dead_letters = rf"{own}\.dead-letters"
        configure += [rf"{queues}(\.dlq)?", rf"({subscribed})\.events", dead_letters]
        write += [rf"{queues}(\.dlq)?", dead_letters]
        read += [queues, rf"({subscribed})\.events", dead_letters]
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


def definitions(passwords: dict[str, str], template: Path = TEMPLATE) -> dict[str, Any]:
    """RabbitMQ definitions: the template's vhost and operator, plus one user per service."""
    document: dict[str, Any] = json.loads(template.read_text(encoding="utf-8"))
    vhost = document["vhosts"][0]["name"]
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


def _password() -> str:
    # URL-safe: passwords go into AMQP URIs unquoted.
    return secrets.token_urlsafe(24)


def ledger_signing_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return base64.b64encode(raw).decode()


def fresh_secrets() -> dict[str, str]:
    """Every secret the Compose deployment reads from `.env`, freshly made, and its project name."""
    values = {
        # Compose names volumes and containers after the project: casebook_postgres-data, ...
        "COMPOSE_PROJECT_NAME": "casebook",
        "POSTGRES_PASSWORD": _password(),
        "RABBITMQ_OPERATOR_PASSWORD": _password(),
        "CASEBOOK_JWT_SECRET": secrets.token_urlsafe(48),
        "CASEBOOK_LEDGER_SIGNING_KEY": ledger_signing_key(),
    }
    for service in SERVICES:
        values[f"{env_prefix(service)}_AMQP_PASSWORD"] = _password()
        values[f"{env_prefix(service)}_CIPHER_KEY"] = AESCipher.create_key(32)
    return values


def broker_passwords(values: dict[str, str]) -> dict[str, str]:
    passwords = {OPERATOR_USER: values["RABBITMQ_OPERATOR_PASSWORD"]}
    for service in SERVICES:
        passwords[service] = values[f"{env_prefix(service)}_AMQP_PASSWORD"]
    return passwords


WARNING = (
    "Keep this file and a copy of it apart from the backups of the stores: each *_CIPHER_KEY\n"
    "decrypts one service's stored events, and without it they are lost for good. Never\n"
    "regenerate it for a running deployment."
)


def env_file(values: dict[str, str]) -> str:
    lines = [
        f"# Casebook secrets, made by `casebook keygen` at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        *(f"# {line}" for line in WARNING.splitlines()),
        "# Other settings (docs/operators.md) may be added below.",
        "",
    ]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--write", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write DIRECTORY/.env and DIRECTORY/rabbitmq/definitions.json "
                   "(e.g. deploy/) instead of printing the secrets.")
@click.option("--force", is_flag=True,
              help="Overwrite an existing .env. Its CIPHER_KEYs are lost: stores encrypted "
                   "with them become unreadable.")
def keygen(directory: Path | None, force: bool) -> None:
    """Make fresh secrets for the Compose deployment: a CIPHER_KEY and a RabbitMQ user per
    service, the PostgreSQL password, the JWT secret and the ledger signing key."""
    values = fresh_secrets()
    if directory is None:
        click.echo(env_file(values), nl=False)
        click.echo("casebook: printed only; `casebook keygen --write deploy/` also writes the "
                   "RabbitMQ definitions with the password hashes.", err=True)
        return
    env_path = directory / ".env"
    if env_path.exists() and not force:
        raise click.ClickException(
            f"{env_path} exists; not overwriting it. Its CIPHER_KEYs decrypt the stores: a new "
            "key makes every stored event unreadable. Use --force only for a deployment with no "
            "data, or after moving the old file somewhere safe."
        )
    document = definitions(broker_passwords(values))
    (directory / "rabbitmq").mkdir(parents=True, exist_ok=True)
    _write_file(env_path, env_file(values), 0o600)
    # Readable by RabbitMQ's own user in its container; it holds salted hashes of long random
    # passwords, not the passwords.
    _write_file(directory / "rabbitmq" / "definitions.json", json.dumps(document, indent=2), 0o644)
    click.echo(f"casebook: wrote {env_path} and {directory / 'rabbitmq' / 'definitions.json'}.")
    click.echo(WARNING)


def _write_file(path: Path, text: str, mode: int) -> None:
    """Replaces the file whole, never half-written, created with `mode` from the start."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
