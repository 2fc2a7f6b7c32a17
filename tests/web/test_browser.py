"""The people's loops in a real browser: Debian's chromium driven by Playwright, on a live server.

Each test saves screenshots (``build/screenshots`` or ``$PROMOGUARD_SCREENSHOTS``) for review;
``docs/web.md`` shows the ones made with ``PROMOGUARD_SCREENSHOTS=docs/images/web``. Every test also
checks that no page asked for anything outside the server and that no hostile string ran (a dialog).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.web.casefixture import PASSWORDS
from tests.web.conftest import browser_login

pytestmark = pytest.mark.browser


def _clean(pg) -> None:
    assert pg.dialogs == [], f"a script ran: {pg.dialogs}"
    assert pg.external == [], f"requests outside the server: {pg.external}"


def test_login_refuses_a_wrong_password_then_lets_the_user_in(page, shots):
    page.goto("/cases")
    assert page.url.endswith("/login?next=%2Fcases")
    browser_login(page, "analyst", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."
    page.screenshot(path=shots / "login-error.png")
    browser_login(page, "analyst")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dashboard")
    assert page.locator("svg.chart").count() >= 5
    page.screenshot(path=shots / "dashboard.png", full_page=True)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
    _clean(page)


def test_analyst_filters_findings_opens_the_case_and_issues_guidance(page, shots, cases_fx):
    browser_login(page, "analyst")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Findings", exact=True).click()
    page.select_option("#f-check", "PRICE001")
    page.select_option("#f-platform", "P1")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*check=PRICE001.*"))
    rows = page.locator("#findings tbody tr")
    assert rows.count() == 3  # one PRICE001 finding per P1 merchant in the fixture
    assert all(c == "PRICE001" for c in rows.locator("td:nth-child(2)").all_inner_texts())
    page.screenshot(path=shots / "findings.png", full_page=True)
    page.select_option("#f-state", "open")  # the fixture has guided two of the three cases
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*state=open.*"))
    assert rows.count() == 1
    page.screenshot(path=shots / "findings.png", full_page=True)

    rows.first.locator("td:first-child a").click()
    # (waits for the finding's page: is_visible alone reads the page as it is, loaded or not)
    page.get_by_role("heading", level=2, name="Legal basis").wait_for()
    assert page.get_by_role("heading", level=2, name="Legal basis").is_visible()
    assert "SHA-256" in page.locator("dl.facts").inner_text()
    assert page.locator("svg.chart").count() == 1  # the price chart from the evidence rows
    page.screenshot(path=shots / "finding.png", full_page=True)

    # the finding's case, still open: assign it and issue the guidance notice
    case_link = page.locator("dl.facts a[href^='/cases/']")
    case_id = case_link.inner_text()
    case_link.click()
    page.wait_for_url(f"**/cases/{case_id}")
    page.select_option("#assignee", "analyst")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_url("**note=assigned")
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    page.fill("#deadline", deadline)
    page.fill("#guide-text", "Correct the reference prices within ten days.")
    page.get_by_role("button", name="Issue guidance").click()
    page.wait_for_url("**note=guided")
    assert page.get_by_role("status").inner_text() == "Guidance notice issued."
    facts = page.locator("dl.facts").inner_text()
    assert "guidance issued" in facts and deadline in facts
    history = page.locator("ul.timeline").last.inner_text()
    assert "guide" in history and "analyst" in history  # the audit history names the user
    page.screenshot(path=shots / "case-guided.png", full_page=True)
    page.get_by_role("link", name="Read the notice").click()
    # the URL changes before the new document has loaded: on a busy CI machine content() read an
    # empty page here, so wait for the notice to arrive before reading it
    page.wait_for_url(f"**/cases/{case_id}/notice")
    page.wait_for_load_state("load")
    assert case_id in page.locator("body").inner_text()
    _clean(page)


def test_platform_officer_sees_only_own_cases_and_reports_rectification(page, shots, cases_fx):
    own = set(cases_fx.ids["P1"]["case_id"])
    theirs = set(cases_fx.ids["P2"]["case_id"])
    browser_login(page, "alpha")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Cases", exact=True).click()
    shown = set(page.locator("#cases tbody tr td:first-child a").all_inner_texts())
    assert shown and shown <= own and not shown & theirs
    page.screenshot(path=shots / "cases-platform.png", full_page=True)

    # another platform's case, typed into the address bar: not found
    response = page.goto(f"/cases/{sorted(theirs)[0]}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"

    case_id = cases_fx.ids["P1"]["awaiting_rectification"][0]
    page.goto(f"/cases/{case_id}")
    assert page.locator("#assignee").count() == 0  # no bureau actions for a platform
    page.fill("#rect-note", "Reference prices corrected; the listing was relabelled.")
    page.set_input_files(
        "#rect-files",
        files=[{"name": "整改报告.txt", "mimeType": "text/plain", "buffer": "已整改".encode()}],
    )
    page.get_by_role("button", name="Report rectification").click()
    page.wait_for_url("**note=rectified")
    assert "rectification reported" in page.locator("dl.facts").inner_text()
    link = page.get_by_role("link", name="整改报告.txt")
    assert link.is_visible()
    page.screenshot(path=shots / "case-rectified.png", full_page=True)
    with page.expect_download() as download:
        link.click()
    assert download.value.path().read_bytes() == "已整改".encode()
    _clean(page)


def test_language_switch_on_every_page(page, shots):
    page.goto("/login")
    page.get_by_role("link", name="中文").click()  # before logging in: a cookie
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
    page.get_by_role("link", name="English").click()
    browser_login(page, "auditor")
    page.wait_for_url("**/")
    page.get_by_role("button", name="中文").click()  # logged in: saves the user's setting
    page.wait_for_url("**/")
    assert page.get_by_role("link", name="发现", exact=True).is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="审计记录").click()
    assert page.get_by_role("heading", level=1).inner_text() == "审计记录"
    page.screenshot(path=shots / "audit-zh.png")
    page.get_by_role("link", name="平台", exact=True).click()
    page.screenshot(path=shots / "scorecards-zh.png", full_page=True)
    page.get_by_role("link", name="消费提示").click()
    page.screenshot(path=shots / "alerts-zh.png", full_page=True)
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Consumer alert drafts")
    _clean(page)


def test_the_language_setting_follows_the_user_to_another_browser(
    browser, live_server, page, shots, cases_fx
):
    """User's setting > the switch's cookie > Accept-Language, in two real browsers."""
    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    svc = CaseService(cases_fx.db_url, actor="setup")
    svc.add_user("zhou", "analyst", password_hash=hash_password("zhou-password-1"))
    svc.db.dispose()
    browser_login(page, "zhou", "zhou-password-1")  # an English browser (en-US)
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dashboard")
    page.get_by_role("link", name="zhou").click()
    page.select_option("#s-language", "zh")
    page.get_by_role("button", name="Save language").click()
    page.wait_for_url("**/settings?note=language")
    assert page.get_by_role("status").inner_text() == "语言设置已保存。"
    assert page.locator("#s-language").input_value() == "zh"
    page.screenshot(path=shots / "settings-zh.png", full_page=True)
    # another computer whose browser asks for English, with its own English cookie
    other = browser.new_context(base_url=live_server, locale="en-US")
    other.add_cookies([{"name": "pg_lang", "value": "en", "url": live_server}])
    pg = other.new_page()
    try:
        browser_login(pg, "zhou", "zhou-password-1")
        pg.wait_for_url("**/")
        assert pg.get_by_role("heading", level=1).inner_text().startswith("总览")
        assert pg.locator("html").get_attribute("lang") == "zh-CN"
        # back to the browser's choice: this English browser is English again
        pg.goto("/settings")
        pg.select_option("#s-language", "")
        pg.get_by_role("button", name="保存语言").click()
        pg.wait_for_url("**/settings?note=language")
        assert pg.get_by_role("status").inner_text() == "Your language is saved."
        pg.screenshot(path=shots / "settings.png", full_page=True)
    finally:
        other.close()
    _clean(page)


def test_pages_are_usable_at_420_pixels(browser, live_server, shots, cases_fx):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 420, "height": 860}, locale="zh-CN"
    )
    pg = context.new_page()
    try:
        pg.goto("/login")
        pg.fill("#username", "analyst")
        pg.fill("#password", PASSWORDS["analyst"])
        pg.click("form[action='/login'] button[type=submit]")
        pg.wait_for_url("**/")
        for path, name in (
            ("/", "dashboard-420.png"),
            ("/findings", "findings-420.png"),
            (f"/cases/{cases_fx.ids['P1']['guided_case'][0]}", "case-420.png"),
        ):
            pg.goto(path)
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 420, f"{path} is {width} px wide at a 420 px viewport"
            pg.screenshot(path=shots / name, full_page=True)
    finally:
        context.close()
