"""A school admin reads the staff's eligibility and downloads the compliance report in a real
browser (journeys_school_admin.py): the table, the CSV (UTF-8 with a byte-order mark) and the
XLSX hold the same rows in Chinese."""

from __future__ import annotations

import pytest

from services.runtime.cli.demo import SCHOOL, WORKER
from services.runtime.cli.journeys import QUALIFIED, staff_school
from tests.e2e.console.conftest import ARTEFACTS, console, console_address, run_journey
from tests.support.services import rpc

pytestmark = pytest.mark.e2e

ADMIN = {"id": "demo-admin", "role": "school_admin", "school_id": SCHOOL}
UNTRAINED = "demo-worker-2"


def test_a_school_admin_downloads_the_compliance_report(amqp_uri, tmp_path):
    with console(amqp_uri, tmp_path, console_address(), services=("supervision",),
                 CASEBOOK_CONSOLE_DEV_SIGN_IN="true") as url:
        with rpc(amqp_uri, ADMIN) as admin:
            staff_school(admin, SCHOOL, WORKER)
            # Qualified, but without pre-job training (9.1a): may not take cases.
            admin.supervision.register_social_worker({
                "social_worker_id": UNTRAINED, "employment": "part_time",
                "school_ids": [SCHOOL], **QUALIFIED})
        seen = run_journey("school_admin", url)

    assert len(seen["staff"]) == 2
    assert len(seen["ineligible"]) == 1 and UNTRAINED in seen["ineligible"][0]
    assert "未参加岗前培训（9.1a）" in seen["ineligible"][0]
    assert seen["refusal_status"] == 400 and seen["refused"].endswith("不得早于 2026-12-01。")
    assert seen["shown_status"] == 200

    table = seen["table"]
    assert table[0] == ["条款", "检查项", "是否达标", "涉及对象", "差距说明"]
    assert ["9.1a", "岗前培训", "否", UNTRAINED, "未记录岗前培训。"] in table
    assert ["6.1.1", "服务场所", "是", "", ""] in table
    # The downloads hold the table as the page shows it.
    assert seen["csv_bom"] is True
    assert seen["csv"] == table
    assert seen["xlsx"] == table
    assert seen["xlsx_sheet"] == "合规报告"
    assert seen["csv_name"] == f"compliance-{SCHOOL}-2026-01-01-{seen['until']}.csv"
    assert seen["xlsx_name"] == f"compliance-{SCHOOL}-2026-01-01-{seen['until']}.xlsx"
    assert seen["english"] == ["Clause", "Check", "Met", "Concerns", "What is missing"]
    for page in ("admin-01-staff-ineligible", "admin-02-compliance-refused",
                 "admin-03-compliance"):
        assert (ARTEFACTS / f"{page}.png").stat().st_size > 0
