"""A social worker's day in a real browser (Debian's Chromium, driven by Playwright): sign in,
register a student, open a case and take it from intake through refusals to closing, every page
in Chinese (journey.py). Each main page is saved as a screenshot under tmp/artefacts/console/
(or $CASEBOOK_ARTEFACTS_DIR/console/)."""

from __future__ import annotations

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import open_case, register_student
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc

pytestmark = pytest.mark.e2e


def test_a_social_worker_runs_a_case_from_intake_to_closing(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        run_journey("social_worker", url)
    for page in ("01-sign-in", "04b-caseload-overdue", "05-intervention-refused",
                 "08-closing-refused", "09-caseload-after-closing"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0


def test_a_caseload_longer_than_a_page_comes_a_page_at_a_time(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        worker = {"id": WORKER, "role": "social_worker", "school_id": SCHOOL}
        with rpc(amqp_uri, worker) as proxy:
            for number in range(25):
                open_case(proxy, register_student(proxy, f"paged-{number}"), WORKER, ["7.1.3a"])
        seen = run_journey("caseload_pages", url)
    assert seen["first_page"] == 20
    assert len(seen["after_more"]) == 25 == len(set(seen["after_more"]))


def test_a_sign_in_left_unused_warns_then_ends_and_takes_the_page_away(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), CASEBOOK_CONSOLE_DEV_SIGN_IN="true",
                 CASEBOOK_CONSOLE_IDLE_MINUTES="0.5") as url:
        seen = run_journey("idle_sign_out", url)
    assert seen["warned"].startswith("您已有一段时间没有操作，即将自动退出")
    # 35 seconds of typing, a character a second, outlasted the 30 unused ones: all kept.
    assert seen["typed"].startswith("王小明同学") and len(seen["typed"]) == 35
    assert seen["warned_while_typing"] is False
    assert seen["left"].startswith("登录") and seen["gone"] is True
    # The server ended it too: the caseload asks for a sign-in.
    assert seen["after"] == f"{url}/sign-in"
    # The tab whose timers were held back stayed until it was shown, then went at once.
    assert seen["background_still_there"] is True
    assert seen["background_gone"].startswith("登录")
    assert (ARTEFACTS / "13-idle-warning.png").stat().st_size > 0
