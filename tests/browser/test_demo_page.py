"""The demo page in headless Chromium (Debian's): a resident sends /start, taps buttons, sees replies."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.demo_process import running_demo
from tests.harness import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[str]:
    """The demo's page, once the demo says it is served and the bot is polling (the test fails
    with the demo's log if that does not come)."""
    async with running_demo(tmp_path) as running:
        yield running.url


ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("LASTMETER_REQUIRE_BROWSER"):
            pytest.fail("Debian's chromium is required (scripts/test.sh installs it)")
        pytest.skip("Debian's chromium is not installed")
    return CHROMIUM


async def test_resident_onboards_in_the_demo_page(demo: str) -> None:
    chromium = need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 800})
        await page.goto(demo)
        await expect(page.locator("#title")).to_contain_text("李阿姨")
        await page.fill("#text", "/start")
        await page.click("#send")
        log = page.locator("#log")
        await expect(log).to_contain_text("请选择语言", timeout=15000)
        await log.get_by_role("button", name="中文").last.click()
        await expect(log).to_contain_text("您住在哪里", timeout=15000)
        await log.get_by_role("button", name="北大街道").last.click(timeout=15000)
        await log.get_by_role("button", name="西湖社区").last.click(timeout=15000)
        await log.get_by_role("button", name="西湖左岸小区").last.click(timeout=15000)
        await expect(log).to_contain_text(
            "已设置您的小区：西湖左岸小区 · 西湖社区 · 北大街道", timeout=15000
        )
        await expect(log).to_contain_text("/profile", timeout=15000)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "demo-onboarding.png"))
        await browser.close()


async def test_the_demo_shows_a_complaint_and_its_escalation(demo: str) -> None:
    """王建国 reports a leak; nobody signs; two hours later the branch secretary is chased."""
    chromium = need_chromium()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 800})
        await page.goto(demo)
        log = page.locator("#log")
        await page.click("[data-persona='1002']")
        await expect(page.locator("#title")).to_contain_text("王建国")
        await page.fill("#text", "/report")
        await page.click("#send")
        await log.get_by_role("button", name="物业维修").last.click(timeout=15000)
        await expect(log).to_contain_text("请发一条消息描述问题", timeout=15000)
        await page.fill("#text", "5号楼楼道漏水")
        await page.click("#send")
        await log.get_by_role("button", name="✅ 提交").last.click(timeout=15000)
        await expect(log).to_contain_text("您的诉求已登记为", timeout=15000)

        await page.click("[data-persona='1003']")
        await expect(log).to_contain_text("新派工单", timeout=15000)
        await expect(log.get_by_role("button", name="✅ 签收").last).to_be_visible()

        for hours in (1, 2):
            await page.click("[data-advance='3600']")
            await expect(page.locator("#clock")).to_have_text(f"⏱ +{hours} h")
        await page.reload()  # the page asks the demo how far time has moved
        await expect(page.locator("#clock")).to_have_text("⏱ +2 h")
        await page.click("[data-persona='1004']")
        await expect(log).to_contain_text("超时督办", timeout=30000)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "demo-escalation.png"))
        await browser.close()
