"""deploy/prometheus/ scrapes every service where Compose serves its metrics, and its alerts are
about metrics the services expose and docs/operators.md explains; promtool, where installed,
accepts the configuration and shows each alert firing on the figures it is about."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.runtime.launcher import METRICS_PORTS, SERVICES
from tests.support.scrapes import served_addresses

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = ROOT / "deploy" / "prometheus"
METRIC = re.compile(r"\bcasebook_[a-z_]+\b")
# Series a histogram, counter or info family exposes beyond its name.
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_info")


def documented_metrics() -> set[str]:
    text = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    section = text.split("## Metrics and alerts", 1)[1]
    return set(re.findall(r"^\| `(casebook_[a-z_]+)` \|", section, flags=re.MULTILINE))


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_every_service_is_scraped_where_compose_serves_its_metrics():
    config, jobs = scrape_targets("prometheus.yml")
    assert jobs == served_addresses(("deploy/compose.yaml",))
    assert jobs == {name: [f"127.0.0.1:{METRICS_PORTS[name]}"] for name in SERVICES} | {
        "rabbitmq": [f"127.0.0.1:{default_port('CASEBOOK_RABBITMQ_METRICS_PORT')}"]}
    assert config["rule_files"] == ["alerts.yml"]


def scrape_targets(config_file: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    config = yaml.safe_load((PROMETHEUS / config_file).read_text(encoding="utf-8"))
    return config, {job["job_name"]: [target for group in job["static_configs"]
                                      for target in group["targets"]]
                    for job in config["scrape_configs"]}


def test_the_cluster_profile_is_scraped_at_every_instance_and_every_node():
    single, single_jobs = scrape_targets("prometheus.yml")
    cluster, jobs = scrape_targets("prometheus.cluster.yml")
    assert {job: sorted(targets) for job, targets in jobs.items()} == served_addresses(
        ("deploy/compose.yaml", "deploy/compose.cluster.yaml"))
    # Two instances of every service but the console, three nodes.
    assert {job: len(targets) for job, targets in jobs.items()} == {
        **{name: 2 for name in SERVICES if name != "console"}, "console": 1, "rabbitmq": 3}
    # The same jobs, scraped alike, under the same alerts: only the targets differ.
    for config in (single, cluster):
        for job in config["scrape_configs"]:
            del job["static_configs"]
    assert cluster == single
    assert set(jobs) == set(single_jobs)


def default_port(variable: str) -> str:
    """The port deploy/compose.yaml gives `variable` when deploy/.env does not."""
    compose = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    [port] = re.findall(rf"\$\{{{variable}:-(\d+)\}}", compose)
    return port


def test_the_broker_is_scraped_for_the_queues_of_casebooks_vhost_only():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "rabbitmq"]
    # Per queue, as the integrators' alert needs; the whole broker's per-queue figures would
    # include every caller's reply queue.
    assert job["metrics_path"] == "/metrics/detailed"
    assert job["params"] == {"vhost": ["casebook"],
                             "family": ["queue_coarse_metrics", "queue_consumer_count"]}
    plugins = (ROOT / "deploy" / "rabbitmq" / "enabled_plugins").read_text(encoding="utf-8")
    assert "rabbitmq_prometheus" in plugins


def test_every_metric_is_documented_and_made_by_the_code():
    documented = documented_metrics()
    code = (ROOT / "services" / "runtime" / "metrics.py").read_text(encoding="utf-8")
    made = {family(name) for name in METRIC.findall(code)}
    assert {family(name) for name in documented} == made


def test_the_alerts_name_only_documented_metrics():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    named = {name for expr in expressions for name in METRIC.findall(expr)}
    assert named, "no casebook_ metric in the alerts"
    assert named <= documented_metrics()
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]
              if "alert" in rule}
    doc = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    assert {alert for alert in alerts if f"| `{alert}` |" not in doc} == set()


# On PATH, or where deploy/local.sh puts it: beside the virtualenv's Python.
PROMTOOL = (shutil.which("promtool")
            or shutil.which("promtool", path=str(Path(sys.executable).parent)))


@pytest.mark.skipif(PROMTOOL is None,
                    reason="promtool is neither on PATH nor in the virtualenv: the scrape "
                           "config and alert rules are not checked (deploy/local.sh test "
                           "unpacks it from Debian's prometheus package where apt-get runs)")
@pytest.mark.parametrize("command", [["check", "config", "prometheus.yml"],
                                     ["check", "config", "prometheus.cluster.yml"],
                                     ["test", "rules", "alerts.test.yml"]],
                         ids=["check config", "check the cluster's config", "test rules"])
def test_promtool_accepts_the_configuration_and_the_alerts_fire_as_tested(command):
    result = subprocess.run([PROMTOOL, *command], cwd=PROMETHEUS, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
