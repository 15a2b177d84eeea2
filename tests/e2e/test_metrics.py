"""What an operator scrapes: each service in its own process serves /metrics on its own port,
and the figures are exact: commands by outcome, the relay, the archive's subscription and
ledger, its checkpoint."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts.errors import Conflict, InvalidInput
from services.runtime.replies import cluster_rpc
from tests.e2e.test_readme_tour import free_port
from tests.support.scenarios import register_student
from tests.support.services import AUDITOR, WORKER, config, processes, rpc
from tests.support.waiting import wait_for


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def cases_and_archive(amqp_uri, tmp_path):
    ports = {"cases": free_port(), "archive": free_port()}
    addresses = {name: {"CASEBOOK_METRICS_ADDRESS": f"127.0.0.1:{port}"}
                 for name, port in ports.items()}
    # A checkpoint as soon as anything reaches the ledger, looked for twice a second.
    with processes(amqp_uri, tmp_path, *ports, each=addresses,
                   CASEBOOK_CHECKPOINT_EVERY_ENTRIES="1",
                   CASEBOOK_CHECKPOINT_TICK_SECONDS="0.5"):
        yield ports


def test_commands_relay_subscription_and_ledger_read_back_exactly(amqp_uri, cases_and_archive):
    ports = cases_and_archive
    with rpc(amqp_uri, WORKER) as proxy:
        register_student(proxy, "metrics-a")
        # The same client again, under a new command id: refused by its code.
        with pytest.raises(Conflict):
            register_student(proxy, "metrics-a")
        with pytest.raises(InvalidInput):
            proxy.cases.register_client({"client_type": "student"})
    retrying = {"actor": WORKER, "command_id": str(uuid.uuid4())}
    with cluster_rpc(config(amqp_uri), context_data=retrying, timeout=30) as proxy:
        first = register_student(proxy, "metrics-b")
        # The same command id again (a client's retry): answered with the stored outcome.
        assert register_student(proxy, "metrics-b") == first

    cases = scrape(ports["cases"])
    name = "casebook_commands_total"
    counted = {
        (dict(labels)["outcome"], dict(labels)["code"]): count
        for (sample, labels), count in cases.items()
        if sample == name and dict(labels)["command"] == "register_client"
    }
    assert counted == {("carried_out", ""): 2, ("refused", "conflict"): 1,
                       ("refused", "invalid_input"): 1, ("replayed", ""): 1}
    assert all(dict(labels)["service"] == "cases"
               for (sample, labels) in cases if sample == name)
    timed = "casebook_command_duration_seconds_count"
    assert value(cases, timed, service="cases", command="register_client",
                 outcome="carried_out") == 2
    assert value(cases, timed, service="cases", command="register_client",
                 outcome="replayed") == 1

    with rpc(amqp_uri, AUDITOR) as proxy:
        status = proxy.cases.status()
    stored = status["stored_position"]
    assert stored > 0

    def relayed() -> dict | None:
        samples = scrape(ports["cases"])
        done = value(samples, "casebook_relay_lag", service="cases") == 0
        return samples if done else None

    cases = wait_for(relayed, timeout=60, what="the relay to publish everything stored")
    assert value(cases, "casebook_relay_stored_position", service="cases") == stored
    published = value(cases, "casebook_relay_published_position", service="cases")
    assert published == stored  # every cases event is published, one envelope each
    assert value(cases, "casebook_vault_keys_destroyed", service="cases") == 0

    def ledger_pinned() -> dict | None:
        samples = scrape(ports["archive"])
        pinned = value(samples, "casebook_archive_checkpoint_position", service="archive",
                       source="cases")
        return samples if pinned == published else None

    archive = wait_for(ledger_pinned, timeout=60,
                       what="a checkpoint pinning every cases event in the ledger")
    at = {"service": "archive", "source": "cases"}
    assert value(archive, "casebook_subscription_position", **at) == published
    assert value(archive, "casebook_subscription_lag", **at) == 0
    assert value(archive, "casebook_subscription_dead_letters", **at) == 0
    assert value(archive, "casebook_archive_ledger_position", **at) == published
    age = value(archive, "casebook_archive_checkpoint_age_seconds", service="archive")
    assert age is not None and age >= 0
    # Each process counts its own commands: the archive carried out none.
    assert not any(sample == name for (sample, _) in archive)

    with pytest.raises(urllib.error.HTTPError) as elsewhere:
        urllib.request.urlopen(f"http://127.0.0.1:{ports['cases']}/", timeout=10)
    assert elsewhere.value.code == 404
