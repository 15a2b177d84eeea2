"""The README's five-minute tour, run as written against `casebook up`: if the README drifts
from the product, this fails."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def tour_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks[0].strip() == "bash deploy/local.sh run"  # the test starts Casebook itself
    return blocks[1:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_readme_tour_works_as_written(amqp_uri, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "AMQP_URI": amqp_uri,
        "CASEBOOK_DATA_DIR": str(tmp_path / "var"),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        # The tour relies on the real rule: only a qualified, trained worker takes cases.
        "CASEBOOK_REQUIRE_ELIGIBLE_WORKERS": "true",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    up = subprocess.Popen([str(Path(sys.executable).parent / "casebook"), "up"], env=env,
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def ready() -> bool:
            probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    f"http://127.0.0.1:{port}/readyz"],
                                   capture_output=True, text=True)
            return probe.stdout == "200"

        wait_for(ready, timeout=120, interval=0.5, what="the gateway to be ready")
        script = "set -euo pipefail\n" + "\n".join(tour_blocks()).replace(
            "http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
        tour = subprocess.run(["bash", "-c", script], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    finally:
        up.send_signal(signal.SIGINT)
        up.communicate(timeout=60)
    output = tour.stdout
    assert tour.returncode == 0, tour.stderr[-3000:] + output[-3000:]
    lines = output.splitlines()
    assert "school JD001 staffed" in output
    assert '"missing_step"' in output  # the out-of-order intervention, refused
    assert "invalid_input" in output and "accepted_on" in output  # the bad date, named
    # The worker reads the client's name; the events an auditor reads never carry it.
    assert any("李小红" in line and '"prev_hash"' not in line for line in lines)
    event_lines = [line for line in lines if '"prev_hash"' in line]
    assert event_lines and not any("李小红" in line for line in event_lines)
    assert "verified" in output
    # Both verifications are kept, the newest first, as the archive lists them.
    kept = next(json.loads(line) for line in lines if '"verified_by"' in line)
    assert kept["total"] == 2 and [(item["verified_by"], item["ok"])
                                   for item in kept["items"]] == [("casebook-cli", True)] * 2
