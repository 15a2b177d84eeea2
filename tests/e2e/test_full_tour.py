"""The full tour (tests/support/tour.py) with every service running, once for the module: every
type of event every service stores occurs; the archive's ledger holds one entry per stored event
of every source, and every chain verifies; every source's exported stream is accepted by the
stand-alone verifiers in JavaScript and Python (examples/verify/), which both name the position
of a one-byte edit (issue 13); and no personal content the tour recorded is on the bus or in a
log line."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contracts.errors import InvalidInput
from services.archive.service import ArchiveService
from services.cases.service import CasesService
from services.resources.service import ResourcesService
from services.runtime.cli import main
from services.runtime.cli.journeys import client_id
from services.runtime.clock import clock
from services.runtime.launcher import PUBLISHERS
from services.runtime.service import ApplicationDependency
from services.runtime.store import CasebookApplication
from services.runtime.vault import SHREDDED, is_token
from services.supervision.service import SupervisionService
from tests.support.logs import configured
from tests.support.services import AUDITOR, WORKER, ledgered, rpc, running
from tests.support.tour import full_tour
from tests.support.views import domain_event_classes
from tests.support.waiting import wait_for

SERVICES = (CasesService, ResourcesService, SupervisionService, ArchiveService)
# Raised only when a chain is broken, which a healthy run never does: the ledger's own tests
# (tests/unit/archive/test_ledger.py) break one to raise it.
ONLY_ON_TAMPERING = {"ChainAlarm.Raised"}
VERIFY = Path(__file__).resolve().parents[2] / "examples" / "verify"


class Kept(logging.Handler):
    """Every record logged while the services run, at every level, as a log line holds it
    (message and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def toured(broker, tmp_path_factory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("tour")
    root, kept = logging.getLogger(), Kept()
    level = root.level
    # Debug too: an operator diagnosing a fault turns it on (CASEBOOK_LOG_LEVEL), and what the
    # libraries log then must hold no more than what Casebook logs at info.
    root.setLevel(logging.DEBUG)
    root.addHandler(kept)
    # And filtered as deploy/config.yaml filters the services' logs.
    filtered = configured()
    for name, filters in filtered.items():
        for each in filters:
            logging.getLogger(name).addFilter(each)
    with pytest.MonkeyPatch.context() as env, broker.vhost() as uri:
        env.setenv("CASEBOOK_DATA_DIR", str(directory / "var"))
        env.setenv("CASEBOOK_REQUIRE_ELIGIBLE_WORKERS", "false")
        env.setenv("CASEBOOK_CHECKPOINT_EVERY_ENTRIES", "20")
        env.setenv("AMQP_URI", uri)
        try:
            with running(uri, *SERVICES) as runner:
                made = full_tour(uri)
                apps = {source: application(runner, source) for source in PUBLISHERS}
                with rpc(uri, AUDITOR) as proxy:
                    wait_for(lambda: all(settled(proxy, source) for source in PUBLISHERS),
                             timeout=120,
                             what="the archive's ledger to hold what every source stored")
                yield {"uri": uri, "apps": apps, "made": made, "directory": directory,
                       "logged": kept.lines}
        finally:
            clock.reset()
            root.removeHandler(kept)
            root.setLevel(level)
            for name, filters in filtered.items():
                for each in filters:
                    logging.getLogger(name).removeFilter(each)


def settled(proxy: Any, source: str) -> bool:
    """Everything `source` stored is published and in the ledger. Published alone is not
    enough: the archive goes on storing after the tour (a checkpoint every 20 entries, signed
    as it records its own envelopes), and the tests compare the ledger with the store."""
    status = proxy[source].status()
    return bool(status["relay_read_through"] == status["stored_position"]
                and ledgered(proxy, source)
                == status["published_position"])


def application(runner: Any, source: str) -> CasebookApplication:
    container = next(c for c in runner.containers if c.service_name == source)
    return next(d for d in container.dependencies if isinstance(d, ApplicationDependency)).app


def stored_types(app: CasebookApplication) -> Counter[str]:
    types: Counter[str] = Counter()
    position = 0
    while notifications := app.notifications_after(position, 1000):
        for notification in notifications:
            types[notification.topic.rpartition(":")[2]] += 1
        position = notifications[-1].id
    return types


def test_the_tour_stores_every_type_of_event_of_every_service(toured):
    missing = {}
    for source, app in toured["apps"].items():
        assert app.publications is not None
        expected = {cls.__qualname__ for cls in domain_event_classes(f"services.{source}")
                    if not app.publications.is_retired(cls)} - ONLY_ON_TAMPERING
        missing[source] = sorted(expected - set(stored_types(app)))
    assert missing == {source: [] for source in PUBLISHERS}


def test_the_ledger_holds_one_entry_per_stored_event_and_every_chain_verifies(toured):
    with rpc(toured["uri"], AUDITOR) as proxy:
        report = proxy.archive.verify_ledger({})
    assert report["ok"], report
    for source, app in toured["apps"].items():
        assert app.publications is not None
        stored = [app.mapper.to_domain_event(n) for n in app.notifications_after(0, 100_000)]
        # This verification is kept after it answers: its own event is not in its report.
        published = [e for e in stored if app.publications.publishable(e) is not None
                     and str(e.originator_id) != report["verification_id"]]
        # Only the ledger's own copies of envelopes are not published again: they are the trail.
        copies = {type(e).__qualname__ for e in stored} - {
            type(e).__qualname__ for e in published}
        assert copies == ({"LedgerEntry.Recorded"} if source == "archive" else set()), source
        assert report["sources"][source]["entries"] == len(published), source


def verifiers() -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: THE JAVASCRIPT VERIFIER CANNOT BE CHECKED "
                    "(deploy/local.sh test installs it)")
    return {"node": [node, str(VERIFY / "verify.js")],
            "python": [sys.executable, str(VERIFY / "verify.py")]}


def verify(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120)


def edit_one_digit(line: bytes) -> bytes:
    """The line with one digit of one payload value changed: still valid JSON, another event."""
    envelope = json.loads(line)
    for key, value in envelope["payload"].items():
        written = f'"{key}":{json.dumps(value, ensure_ascii=False)}'.encode()
        digits = [i for i, byte in enumerate(written) if chr(byte).isdigit() and i > len(key) + 2]
        if digits and written in line:
            at = digits[-1]
            digit = b"1" if written[at:at + 1] != b"1" else b"2"
            changed = written[:at] + digit + written[at + 1:]
            return line.replace(written, changed, 1)
    raise AssertionError(f"no digit in the payload of {line[:200]!r}")


def test_both_verifiers_accept_every_exported_source_and_name_an_edited_position(toured):
    commands = verifiers()
    exports: dict[str, Path] = {}
    for source in PUBLISHERS:
        exports[source] = toured["directory"] / f"{source}.jsonl"
        result = CliRunner().invoke(main, ["export", "--source", source,
                                           "--out", str(exports[source])])
        assert result.exit_code == 0, result.output

    for source, path in exports.items():
        count = len(path.read_bytes().splitlines())
        assert count, source
        for name, command in commands.items():
            result = verify(command, path)
            assert result.returncode == 0, f"{name} on {source}: {result.stdout}{result.stderr}"
            assert result.stdout.startswith(f"verified {count} envelopes of {source}: "), \
                result.stdout
            assert "chain from genesis" in result.stdout

    lines = exports["cases"].read_bytes().splitlines(keepends=True)
    target = len(lines) // 2
    edited_position = json.loads(lines[target])["position"]
    lines[target] = edit_one_digit(lines[target])
    json.loads(lines[target])  # still JSON
    tampered = toured["directory"] / "cases-edited.jsonl"
    tampered.write_bytes(b"".join(lines))
    for name, command in commands.items():
        result = verify(command, tampered)
        assert result.returncode == 1, f"{name}: {result.stdout}{result.stderr}"
        assert result.stdout.startswith(
            f"FAILED: position {edited_position}: hash does not match"), f"{name}: {result.stdout}"


# Refused calls carry personal content too, and each refusal is logged with its detail.
REFUSED = {"name": "赵小雨", "guardian": "赵刚", "contact": "137-2222-3333",
           "notes": "夜里常做噩梦，不敢一个人睡。"}


def sealed_values(app: CasebookApplication) -> set[str]:
    """Every string the service sealed in its store (names, contacts, notes, ...), opened."""
    values: set[str] = set()
    for notification in app.notifications_after(0, 100_000):
        event = app.mapper.to_domain_event(notification)
        for token in leaves(vars(event), is_token):
            values.update(leaves(app.vault.open(token), lambda leaf: isinstance(leaf, str)))
    return values - {SHREDDED}


def documented(uri: str) -> str:
    """What the services say of their commands and answers (`describe`, which the API documents):
    its words, such as the codes a consent's party or a related party's kind is chosen from, are
    sealed beside the content they qualify but are nobody's content."""
    with rpc(uri, AUDITOR) as proxy:
        return json.dumps([proxy[source].describe() for source in PUBLISHERS], ensure_ascii=False)


def leaves(value: Any, kept: Callable[[Any], bool]) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item, kept)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item, kept)
    elif kept(value):
        yield value


def test_no_personal_content_reaches_the_bus_or_a_log_line(toured):
    with rpc(toured["uri"], WORKER) as worker:
        with pytest.raises(InvalidInput):
            worker.cases.register_client({
                "client_type": "student", "name": REFUSED["name"], "date_of_birth": "not a day",
                "grade": 6, "guardians": [{"name": REFUSED["guardian"], "relation": "cousin",
                                           "contact": REFUSED["contact"]}]})
        with pytest.raises(InvalidInput):
            worker.cases.open_case({
                "client_id": client_id("tour-main"), "social_worker_id": WORKER["id"],
                "service_codes": ["7.1.3a"], "opened_on": "yesterday",
                "intake": {"worker_introduced": True, "respect_and_empathy": True,
                           "initial_information": REFUSED["notes"]}})
    personal = set(REFUSED.values())
    for app in toured["apps"].values():
        personal |= sealed_values(app)
    words = documented(toured["uri"])
    personal = {value for value in personal if value and value not in words}
    assert {"王小明", "王芳", "138-0000-0000"} <= personal  # what every student's record holds

    published = ""
    for source in PUBLISHERS:
        out = toured["directory"] / f"{source}-published.jsonl"
        result = CliRunner().invoke(main, ["export", "--source", source, "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert text, source
        published += text
    assert sorted(value for value in personal if value in published) == []

    logged = "\n".join(toured["logged"])
    # The refusals above were logged with their detail, and replies as nameko logs them at debug.
    assert "cases.register_client refused (invalid_input)" in logged
    assert "RPC reply event complete" in logged
    assert sorted(value for value in personal if value in logged) == []
