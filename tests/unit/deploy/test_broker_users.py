"""`casebook broker-user`: an integrator's or an auditor's broker user may read what was published
and check it, and nothing else; a name it may not take is refused with the rule, changing
nothing. On a real broker: tests/integration/deploy/test_broker_users.py."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.runtime.cli.broker_users import broker_user, password_file
from services.runtime.cli.keygen import (
    DEFINITIONS_FILE,
    keygen,
    outside_grants,
    rabbit_password_hash,
)
from services.runtime.launcher import PUBLISHERS, SERVICES

UUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
# Calls that read personal content, change a record or run the system: nobody outside may.
FORBIDDEN = ("open_case", "get_case", "get_client", "grant_access", "read_file", "settle_command",
             "ping", "events_since.x", "events_sincex")


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    assert CliRunner().invoke(keygen, ["--write", str(tmp_path)]).exit_code == 0
    return tmp_path / "secrets"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(broker_user, list(args))
    return result.exit_code, result.output


def allows(grant: dict[str, str], kind: str, resource: str) -> bool:
    return re.fullmatch(grant[kind], resource) is not None


def test_add_writes_the_user_its_grants_and_its_backlog_policy(secrets_dir):
    code, output = run("add", "acme", "--role", "integrator", "--secrets", str(secrets_dir),
                       "--max-backlog", "500")
    assert code == 0, output
    password = (secrets_dir / password_file("acme")).read_text()
    assert (secrets_dir / password_file("acme")).stat().st_mode & 0o077 == 0
    document = json.loads((secrets_dir / DEFINITIONS_FILE).read_text())
    [user] = [user for user in document["users"] if user["name"] == "acme"]
    assert user["tags"] == ["casebook-integrator"]
    salt = base64.b64decode(user["password_hash"])[:4]
    assert rabbit_password_hash(password, salt) == user["password_hash"]
    assert [grant["user"] for grant in document["permissions"]].count("acme") == 1
    assert [grant["user"] for grant in document["topic_permissions"]].count("acme") == 1
    [policy] = document["policies"]
    assert policy["pattern"] == r"^acme\."
    assert policy["definition"] == {"max-length": 500, "overflow": "drop-head"}
    assert "import_definitions" in output and password not in output
    assert run("add", "wang", "--role", "auditor", "--secrets", str(secrets_dir))[0] == 0
    assert run("list", "--secrets", str(secrets_dir)) == (
        0, "acme\tintegrator\tmax backlog 500\nwang\tauditor\tmax backlog 100000\n")


@pytest.mark.parametrize("role", ["integrator", "auditor"])
def test_an_outside_user_may_read_its_own_queues_and_nothing_of_anyone_else(role):
    permissions, topic = outside_grants("acme", role, "casebook")
    reply = f"rpc.reply-acme-{UUID}"
    for kind in ("configure", "write", "read"):
        assert allows(permissions, kind, reply)
        for service in SERVICES:
            assert not allows(permissions, kind, f"rpc-{service}")
            assert not allows(permissions, kind, f"{service}.from.cases")
    # Its queues are made for it: declaring one it would choose the arguments (a classic
    # queue's reject-publish refuses the source's relay); configuring an exchange, delete it.
    for kind in ("configure", "write"):
        for resource in ("acme.from.cases", "acme.tail-x", "acme.x", "nameko-rpc.x"):
            assert not allows(permissions, kind, resource)
    for source in PUBLISHERS:
        assert allows(permissions, "read", f"acme.from.{source}") == (role == "integrator")
        for kind in ("configure", "write", "read"):  # nothing to bind to a source
            assert not allows(permissions, kind, f"{source}.events")
        assert allows(topic, "write", f"{source}.events_since")
    assert not allows(permissions, "configure", "nameko-rpc")
    assert allows(permissions, "write", "nameko-rpc") and allows(permissions, "read", "nameko-rpc")
    for service in SERVICES:
        for call in FORBIDDEN:
            assert not allows(topic, "write", f"{service}.{call}")
    assert not allows(permissions, "write", "amq.default")
    assert allows(topic, "read", UUID) and not allows(topic, "read", "cases.*")


def test_an_integrators_queues_are_declared_for_it_bound_to_each_whole_stream(secrets_dir):
    assert run("add", "acme", "--role", "integrator", "--secrets", str(secrets_dir))[0] == 0
    assert run("add", "wang", "--role", "auditor", "--secrets", str(secrets_dir))[0] == 0
    document = json.loads((secrets_dir / DEFINITIONS_FILE).read_text())
    assert [queue["name"] for queue in document["queues"]] == [
        f"acme.from.{source}" for source in PUBLISHERS]
    for queue in document["queues"]:
        assert queue["durable"] and queue["vhost"] == "casebook"
        assert queue["arguments"] == {"x-queue-type": "quorum", "x-single-active-consumer": True}
    assert [(binding["source"], binding["destination"], binding["routing_key"])
            for binding in document["bindings"]] == [
        (f"{source}.events", f"acme.from.{source}", "#") for source in PUBLISHERS]
    # Each exchange once, as its services declare it, for the bindings at the broker's boot.
    assert sorted(exchange["name"] for exchange in document["exchanges"]) == sorted(
        [*(f"{source}.events" for source in PUBLISHERS), "nameko-rpc"])
    assert all(exchange["type"] == "topic" and exchange["durable"]
               and not exchange["auto_delete"] for exchange in document["exchanges"])


def test_definitions_made_before_the_exchanges_were_declared_gain_them(secrets_dir):
    path = secrets_dir / DEFINITIONS_FILE
    older = json.loads(path.read_text())
    older["exchanges"] = []
    path.write_text(json.dumps(older))
    assert run("add", "acme", "--role", "integrator", "--secrets", str(secrets_dir))[0] == 0
    assert len(json.loads(path.read_text())["exchanges"]) == len(PUBLISHERS) + 1


def test_an_integrator_catches_up_and_an_auditor_also_checks_and_replays():
    _, integrator = outside_grants("acme", "integrator", "casebook")
    _, auditor = outside_grants("wang", "auditor", "casebook")
    audit = ("recompute_since", "verify_content", "replay", "rebuild", "status")
    for source in PUBLISHERS:
        for call in audit:
            assert allows(auditor, "write", f"{source}.{call}")
            assert not allows(integrator, "write", f"{source}.{call}")
    assert allows(auditor, "write", "archive.verify_ledger")
    assert not allows(auditor, "write", "cases.verify_ledger")
    assert not allows(integrator, "write", "archive.verify_ledger")


@pytest.mark.parametrize("args, field, rule", [
    (["Acme"], "NAME", "'Acme' must be 2 to 32 of a-z"),
    (["a"], "NAME", "'a' must be 2 to 32 of a-z"),
    (["acme.x"], "NAME", "'acme.x' must be 2 to 32 of a-z"),
    (["acme-x"], "NAME", "'acme-x' must be 2 to 32 of a-z"),
    (["cases"], "NAME", "'cases' is a service's or the broker's own user"),
    (["operator"], "NAME", "'operator' is a service's or the broker's own user"),
    (["acme", "--max-backlog", "0"], "--max-backlog", "0 is not at least 1"),
    (["acme", "--role", "operator"], "'--role'", "'operator' is not one of 'integrator',"),
])
def test_add_refuses_what_it_may_not_make_and_changes_nothing(secrets_dir, args, field, rule):
    before = (secrets_dir / DEFINITIONS_FILE).read_bytes()
    role = [] if "--role" in args else ["--role", "integrator"]
    code, output = run("add", *args, *role, "--secrets", str(secrets_dir))
    assert code == 2
    assert f"Invalid value for {field}: {rule}" in " ".join(output.split())
    assert (secrets_dir / DEFINITIONS_FILE).read_bytes() == before
    assert not list(secrets_dir.glob("broker_user_*"))


def test_a_second_user_of_the_same_name_is_refused(secrets_dir):
    assert run("add", "acme", "--role", "integrator", "--secrets", str(secrets_dir))[0] == 0
    first = (secrets_dir / password_file("acme")).read_text()
    code, output = run("add", "acme", "--role", "auditor", "--secrets", str(secrets_dir))
    assert code == 2
    assert "Invalid value for NAME: the definitions already have a user 'acme'" in " ".join(
        output.split())
    assert (secrets_dir / password_file("acme")).read_text() == first


def test_remove_takes_the_user_out_and_nothing_else(secrets_dir):
    pristine = json.loads((secrets_dir / DEFINITIONS_FILE).read_text())
    assert run("add", "acme", "--role", "integrator", "--secrets", str(secrets_dir))[0] == 0
    code, output = run("remove", "acme", "--secrets", str(secrets_dir))
    assert code == 0, output
    assert "delete_user acme" in output and "clear_policy -p casebook casebook-backlog-acme" \
        in output
    for source in PUBLISHERS:
        assert f"delete_queue -p casebook acme.from.{source}" in output
    assert json.loads((secrets_dir / DEFINITIONS_FILE).read_text()) == pristine
    assert not (secrets_dir / password_file("acme")).exists()
    assert run("list", "--secrets", str(secrets_dir)) == (0, "")
    for name in ("acme", "cases", "operator"):  # no outside user (any more)
        code, output = run("remove", name, "--secrets", str(secrets_dir))
        assert code == 2 and f"the definitions have no integrator or auditor {name!r}" in output


def added_before_its_queues_were_made(secrets_dir: Path, name: str, role: str) -> None:
    """`name` in the definitions as `broker-user add` wrote it until 2026-12-07: the same
    user and backlog policy, wider grants, no queues (its subscriber declared them)."""
    assert run("add", name, "--role", role, "--secrets", str(secrets_dir),
               "--max-backlog", "700")[0] == 0
    path = secrets_dir / DEFINITIONS_FILE
    document = json.loads(path.read_text())
    [grant] = [grant for grant in document["permissions"] if grant["user"] == name]
    grant.update(configure=rf"^({name}\..+|rpc\.reply-.+|nameko-rpc|(cases|archive)\.events)$",
                 read=rf"^({name}\..+|rpc\.reply-.+|nameko-rpc|(cases|archive)\.events)$",
                 write=rf"^({name}\..+|rpc\.reply-.+|nameko-rpc)$")
    document["queues"] = [queue for queue in document["queues"]
                          if not queue["name"].startswith(f"{name}.")]
    document["bindings"] = [binding for binding in document["bindings"]
                            if not binding["destination"].startswith(f"{name}.")]
    path.write_text(json.dumps(document))
    (secrets_dir / password_file(name)).unlink()  # handed over, as `add` says


@pytest.mark.parametrize("role", ["integrator", "auditor"])
def test_renew_gives_a_user_added_before_what_its_role_has_now_keeping_its_password(
        secrets_dir, role):
    path = secrets_dir / DEFINITIONS_FILE
    added_before_its_queues_were_made(secrets_dir, "acme", role)
    [user] = [user for user in json.loads(path.read_text())["users"] if user["name"] == "acme"]

    code, output = run("renew", "acme", "--secrets", str(secrets_dir))
    assert code == 0, output
    renewed = json.loads(path.read_text())
    assert not (secrets_dir / password_file("acme")).exists()  # no new password to hand over
    lines = output.splitlines()
    deletes = [line for line in lines if "delete_queue" in line]
    assert deletes == ([f"  docker compose -f deploy/compose.yaml exec rabbitmq rabbitmqctl "
                        f"delete_queue -p casebook acme.from.{source}" for source in PUBLISHERS]
                       if role == "integrator" else [])
    imports = [index for index, line in enumerate(lines) if "import_definitions" in line]
    assert imports and all(lines.index(line) < imports[0] for line in deletes)
    # Renewed again: nothing changes, and no queue is to be deleted.
    code, again = run("renew", "acme", "--secrets", str(secrets_dir))
    assert code == 0 and "delete_queue" not in again
    assert json.loads(path.read_text()) == renewed

    # What removing it and adding it again makes, but for the new password it would need.
    assert run("remove", "acme", "--secrets", str(secrets_dir))[0] == 0
    assert run("add", "acme", "--role", role, "--secrets", str(secrets_dir),
               "--max-backlog", "700")[0] == 0
    added = json.loads(path.read_text())
    for made in added["users"]:
        if made["name"] == "acme":
            assert made["password_hash"] != user["password_hash"]
            made["password_hash"] = user["password_hash"]
    assert renewed == added


def test_renew_refuses_anyone_but_an_integrator_or_an_auditor(secrets_dir):
    pristine = (secrets_dir / DEFINITIONS_FILE).read_text()
    for name in ("acme", "cases", "operator"):
        code, output = run("renew", name, "--secrets", str(secrets_dir))
        assert code == 2 and f"the definitions have no integrator or auditor {name!r}" in output
    assert (secrets_dir / DEFINITIONS_FILE).read_text() == pristine


def test_without_the_deployments_definitions_it_says_how_to_make_them(tmp_path):
    code, output = run("add", "acme", "--role", "auditor", "--secrets", str(tmp_path))
    assert code == 1 and "casebook keygen --write deploy/" in output
