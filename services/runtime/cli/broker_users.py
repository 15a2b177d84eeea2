"""`casebook broker-user`: a broker user of its own for each integrator and auditor of a Compose
deployment.

An integrator follows Casebook's domain events on RabbitMQ (docs/integrators.md); an auditor
verifies, exports and replays history with the `casebook` CLI (docs/auditors.md). Both need a
broker user. The operator's user administers the vhost, and a service's user may call any
service as any actor it names: whoever holds broker credentials is trusted to say who acts
(DESIGN.md "Actors, access, privacy"), so either would read every client's record. An outside
user may only read the queues made for it (an integrator's `<name>.from.<source>`, bound to
each source's whole stream) and make the calls of its role (`OUTSIDE_CALLS`), none of which
answers personal content; its queues hold at most `--max-backlog` envelopes, the oldest dropped
first (`backlog_policy`). The user, its permissions, its queues and its policy go into
`rabbitmq_definitions.json`, which RabbitMQ loads at boot; the command prints how to load them
into the broker that runs now. `renew` gives a user added by an earlier release what its role
has now, keeping its password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from services.runtime.cli.keygen import (
    DEFINITIONS_FILE,
    OPERATOR_USER,
    OUTSIDE_CALLS,
    backlog_policy,
    backlog_policy_name,
    declared_exchanges,
    fresh_password,
    outside_grants,
    outside_queues,
    rabbit_password_hash,
    vhost_of,
    write_file,
)
from services.runtime.launcher import SERVICES

# Its queues are `<name>.from.<source>`, its backlog policy matches `<name>.` and its password
# file is named after it: no dot, no dash.
NAME = re.compile(r"[a-z][a-z0-9_]{1,31}")
RESERVED = frozenset({*SERVICES, OPERATOR_USER, "guest"})
ROLES = tuple(OUTSIDE_CALLS)
TAG = "casebook-{role}"  # the user's tag in RabbitMQ: which role it was made for
DEFAULT_BACKLOG = 100_000
COMPOSE = "docker compose -f deploy/compose.yaml"
T = TypeVar("T")


class Refused(ValueError):
    """What an outside user cannot be, in words the operator can act on: the field (`NAME`,
    `--max-backlog`) and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field


def password_file(name: str) -> str:
    return f"broker_user_{name}_password"


def outside_users(document: dict[str, Any]) -> dict[str, str]:
    """Each outside user in the definitions, with its role."""
    tags = {TAG.format(role=role): role for role in ROLES}
    return {user["name"]: tags[tag] for user in document["users"]
            for tag in user["tags"] if tag in tags}


def add_user(
    document: dict[str, Any], name: str, role: str, password: str,
    max_backlog: int = DEFAULT_BACKLOG,
) -> None:
    """The outside user `name`, its permissions and its backlog policy added to RabbitMQ's
    definitions; refused, changing nothing, for a name that is not one to take."""
    if not NAME.fullmatch(name):
        raise Refused(
            "NAME", f"{name!r} must be 2 to 32 of a-z, 0-9 and _, starting with a letter "
            "(its queues are named `<name>.from.<source>`)")
    if name in RESERVED:
        raise Refused("NAME", f"{name!r} is a service's or the broker's own user")
    if any(user["name"] == name for user in document["users"]):
        raise Refused("NAME", f"the definitions already have a user {name!r}")
    if max_backlog < 1:
        raise Refused("--max-backlog", f"{max_backlog} is not at least 1")
    _grant(document, name, role, rabbit_password_hash(password), max_backlog)


def _grant(
    document: dict[str, Any], name: str, role: str, password_hash: str, max_backlog: int,
) -> None:
    """The user `name` of `role` as this release makes one: its permissions, backlog policy,
    queues and their bindings, and the exchanges they are bound to."""
    vhost = vhost_of(document)
    permissions, topic = outside_grants(name, role, vhost)
    document["users"].append({
        "name": name,
        "password_hash": password_hash,
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": [TAG.format(role=role)],
    })
    document["permissions"].append(permissions)
    document.setdefault("topic_permissions", []).append(topic)
    document.setdefault("policies", []).append(backlog_policy(name, vhost, max_backlog))
    queues, bindings = outside_queues(name, role, vhost)
    # Definitions `casebook keygen` made before it declared the exchanges lack them, and their
    # bindings would fail the broker's boot.
    declared = {exchange["name"] for exchange in document.setdefault("exchanges", [])}
    document["exchanges"] += [exchange for exchange in declared_exchanges(vhost)
                              if exchange["name"] not in declared]
    document.setdefault("queues", []).extend(queues)
    document.setdefault("bindings", []).extend(bindings)


def remove_user(document: dict[str, Any], name: str) -> list[str]:
    """The outside user `name` taken out of RabbitMQ's definitions, with its queues (their
    names returned); refused for any other."""
    if name not in outside_users(document):
        raise Refused("NAME", f"the definitions have no integrator or auditor {name!r}")
    queues = queue_names(document, name)
    document["users"] = [user for user in document["users"] if user["name"] != name]
    for key in ("permissions", "topic_permissions"):
        document[key] = [grant for grant in document[key] if grant["user"] != name]
    document["policies"] = [item for item in document["policies"]
                            if item["name"] != backlog_policy_name(name)]
    document["queues"] = [queue for queue in document.get("queues", [])
                          if queue["name"] not in queues]
    document["bindings"] = [binding for binding in document.get("bindings", [])
                            if binding["destination"] not in queues]
    return queues


def renew_user(document: dict[str, Any], name: str) -> list[str]:
    """The outside user `name` given what this release gives its role, its password and backlog
    kept; returned, those of its queues the definitions did not hold (a user added before they
    were made for it, whose subscriber declared them itself, classic)."""
    role = outside_users(document).get(name)
    if role is None:
        raise Refused("NAME", f"the definitions have no integrator or auditor {name!r}")
    [user] = [user for user in document["users"] if user["name"] == name]
    backlog = next((item["definition"]["max-length"] for item in document.get("policies", [])
                    if item["name"] == backlog_policy_name(name)), DEFAULT_BACKLOG)
    held = {queue["name"] for queue in document.get("queues", [])}
    remove_user(document, name)
    _grant(document, name, role, user["password_hash"], backlog)
    return [queue for queue in queue_names(document, name) if queue not in held]


def queue_names(document: dict[str, Any], name: str) -> list[str]:
    """The queues of the outside user `name` in the definitions, by its role: also those its
    subscriber declared itself under a user added before the definitions held them."""
    role = outside_users(document)[name]
    return [queue["name"] for queue in outside_queues(name, role, vhost_of(document))[0]]


def _definitions(secrets_dir: Path) -> tuple[Path, dict[str, Any]]:
    path = secrets_dir / DEFINITIONS_FILE
    if not path.exists():
        raise click.ClickException(
            f"{path} does not exist: `casebook keygen --write deploy/` makes it with the "
            "deployment's other secrets")
    return path, json.loads(path.read_text(encoding="utf-8"))


def _changed(
    secrets_dir: Path, change: Callable[[dict[str, Any]], T],
) -> tuple[Path, dict[str, Any], T]:
    """The deployment's definitions, changed in memory (saved by the caller), and what the
    change returned; a refusal is the operator's error, naming the argument and the rule."""
    path, document = _definitions(secrets_dir)
    try:
        return path, document, change(document)
    except Refused as refusal:
        raise click.BadParameter(str(refusal), param_hint=refusal.field) from None


def _save(path: Path, document: dict[str, Any]) -> None:
    # Readable by RabbitMQ's own user in its container, as keygen writes it.
    write_file(path, json.dumps(document, indent=2), 0o644)


secrets_option = click.option(
    "--secrets", "secrets_dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("deploy/secrets"), show_default=True,
    help="The deployment's secrets directory, which holds rabbitmq_definitions.json.")


@click.group("broker-user")
def broker_user() -> None:
    """Broker users for integrators and auditors: each may read what was published, never a
    client's record."""


@broker_user.command()
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="integrator: follow the events (events_since); auditor: also verify, "
                   "replay and compare rebuilt views (docs/auditors.md).")
@secrets_option
@click.option("--max-backlog", type=int, default=DEFAULT_BACKLOG, show_default=True,
              help="Envelopes any of its queues may hold; beyond that the oldest are dropped "
                   "(its reader fetches them with events_since).")
def add(name: str, role: str, secrets_dir: Path, max_backlog: int) -> None:
    """Add the broker user NAME, with a fresh password written beside the secrets."""
    password = fresh_password()
    path, document, _ = _changed(
        secrets_dir, lambda document: add_user(document, name, role, password, max_backlog))
    write_file(secrets_dir / password_file(name), password, 0o600)
    _save(path, document)
    vhost = vhost_of(document)
    queues = queue_names(document, name)
    click.echo(
        f"casebook: added the {role} {name} to {path}; its password is in "
        f"{secrets_dir / password_file(name)}.\n"
        f"Load it into the running broker (RabbitMQ loads the file itself at its next start):\n"
        f"  {COMPOSE} exec -T rabbitmq rabbitmqctl import_definitions --format json < {path}\n"
        f"Hand over the password and amqp://{name}@<host>:5672/{vhost}"
        + (f" (its queues: {', '.join(queues)})" if queues else "")
        + ", then delete the password file.")


@broker_user.command()
@click.argument("name")
@secrets_option
def remove(name: str, secrets_dir: Path) -> None:
    """Take the broker user NAME out of the definitions, and say how to take it off the
    running broker."""
    path, document, queues = _changed(secrets_dir, lambda document: remove_user(document, name))
    _save(path, document)
    (secrets_dir / password_file(name)).unlink(missing_ok=True)
    vhost = vhost_of(document)
    policy = backlog_policy_name(name)
    commands = [f"delete_user {name}", f"clear_policy -p {vhost} {policy}",
                *(f"delete_queue -p {vhost} {queue}" for queue in queues)]
    click.echo(
        f"casebook: removed {name} from {path}. Loading the definitions adds and never removes, "
        f"so take the user, its policy and its queues off the running broker:\n"
        + "\n".join(f"  {COMPOSE} exec rabbitmq rabbitmqctl {command}" for command in commands))


@broker_user.command()
@click.argument("name")
@secrets_option
def renew(name: str, secrets_dir: Path) -> None:
    """Give the broker user NAME what this release gives its role, its password kept: after an
    upgrade that changed it."""
    path, document, stale = _changed(secrets_dir, lambda document: renew_user(document, name))
    _save(path, document)
    vhost = vhost_of(document)
    lines = [f"casebook: renewed {name} in {path}, its password kept. Load it into the running "
             "broker:"]
    if stale:
        lines.append("first delete the queues its subscriber declared before they were made for "
                     "it (classic: the quorum queue of that name cannot be made while one stands; "
                     "what they held, its subscriber fetches with events_since; one it never "
                     "declared is \"not found\", nothing to delete),")
        lines += [f"  {COMPOSE} exec rabbitmq rabbitmqctl delete_queue -p {vhost} {queue}"
                  for queue in stale]
        lines.append("then load the definitions,")
    lines += [
        f"  {COMPOSE} exec -T rabbitmq rabbitmqctl import_definitions --format json < {path}",
        "and start its subscriber again (a connection keeps the rights it opened with). Delete "
        f"any other queue named {name}.* that `rabbitmqctl list_queues -p {vhost} name` shows: "
        "no other is made for it.",
    ]
    click.echo("\n".join(lines))


@broker_user.command("list")
@secrets_option
def list_(secrets_dir: Path) -> None:
    """The integrators and auditors in the definitions, with the backlog their queues may
    hold."""
    _, document = _definitions(secrets_dir)
    limits = {item["name"]: item["definition"]["max-length"]
              for item in document.get("policies", [])}
    for name, role in sorted(outside_users(document).items()):
        backlog = limits.get(backlog_policy_name(name), "none")
        click.echo(f"{name}\t{role}\tmax backlog {backlog}")
