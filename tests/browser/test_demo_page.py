"""The demo page in headless Chromium (Debian's): a resident sends /start, taps buttons, sees replies;
on a phone's width and a desktop's, with unread markers, contact cards, tappable /commands, t.me
links that open the bot's chat, times in the bot's clock, and the bot's reply keyboard (the main
menu, a form's share-my-number button) under the input field, as Telegram's app shows it.

Screenshots go to the test's tmp folder; with LASTMETER_DEMO_SCREENSHOTS=docs (`make
demo-screenshots`) the phone and desktop ones are also written there, as docs/demo-390.png,
docs/demo-1100.png and docs/menu-390.png.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.sandbox.demo import TOKEN
from tests.demo_process import running_demo
from tests.harness import ROOT

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page, ViewportSize

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS_ENV = "LASTMETER_DEMO_SCREENSHOTS"
BOT_ZONE = ZoneInfo("Asia/Shanghai")  # the demo's [bot] timezone
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1100, "height": 800}
# The bot's clock in the phone test: a day and a half hour ahead of the machine's.
SHIFT = 86400 + 5400
RESIDENTS_GROUP = -1005001  # bot/sandbox/demo.py
LI, WANG, ZHANG, LIU = 1001, 1002, 1003, 1004  # resident, party member, officer, secretary
# The main menu a resident gets once onboarded (bot/ui/menu.py), and its input field's hint.
MENU = [
    ["📝 我要反映问题"],
    ["📋 我的诉求", "🔍 失物招领"],
    ["🚩 党员报到/活动", "🏠 我家"],
    ["🏛 议事厅", "❓ 帮助"],
]
MENU_HINT = "点按钮，或直接写下您的问题"
DEFAULT_HINT = "输入消息或命令，如 /start · Type a message or /start"


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


@asynccontextmanager
async def chromium_browser() -> AsyncIterator[Browser]:
    chromium = need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def shoot(page: Page, name: str, tmp_path: Path) -> None:
    """A screenshot in the test's folder, and in LASTMETER_DEMO_SCREENSHOTS's when it is set."""
    folders = [tmp_path / "screenshots"]
    if target := os.environ.get(SCREENSHOTS_ENV):
        folders.append(Path(target) if Path(target).is_absolute() else ROOT / target)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / name))


def bot_times(since: float, until: float, shift: float) -> set[str]:
    """HH:MM on the bot's clock (Asia/Shanghai, shifted) at any moment between two of the
    machine's."""
    moments = [since + n * 10.0 for n in range(int((until - since) / 10.0) + 1)] + [until]
    return {datetime.fromtimestamp(int(t) + shift, BOT_ZONE).strftime("%H:%M") for t in moments}


# Elements wider than what holds them: the page's width, or the box that clips them (the chat
# log, a keyboard row). The two rows of chips scroll sideways on purpose and are left out.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (!r.width) continue;
    let left = 0, right = width, clip = null;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") { clip = p; break; }
    }
    if (clip && (clip.id === "personas" || clip.id === "chats")) continue;
    if (clip) { const c = clip.getBoundingClientRect(); left = c.left; right = c.right; }
    if (r.left < left - 0.5 || r.right > right + 0.5) {
      out.push(`${e.tagName}.${e.className} ${Math.round(r.left)}-${Math.round(r.right)}: ` +
               (e.textContent || "").slice(0, 40));
    }
  }
  return out;
}"""


async def assert_fits_a_phone(page: Page) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} px wide"
    assert await page.evaluate(OVERFLOW) == []


async def font_px(locator: Locator) -> float:
    size = await locator.evaluate("e => getComputedStyle(e).fontSize")
    return float(str(size).removesuffix("px"))


async def keyboard_rows(page: Page) -> list[list[str]]:
    """The labels of the reply keyboard under the input field, row by row."""
    rows: list[list[str]] = await page.locator("#replykb .row").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('button')].map(b => b.textContent))"
    )
    return rows


async def assert_menu_under_the_input(page: Page) -> None:
    """The main menu is shown below the input field, in big keys, and in no message."""
    from playwright.async_api import expect

    keys = page.locator("#replykb")
    await expect(keys).to_be_visible(timeout=15000)
    await expect(keys.locator("button").first).to_have_text(MENU[0][0], timeout=15000)
    assert await keyboard_rows(page) == MENU
    await expect(page.locator("#text")).to_have_attribute("placeholder", MENU_HINT)
    composer, under = await page.locator("#composer").bounding_box(), await keys.bounding_box()
    assert composer is not None and under is not None
    assert under["y"] >= composer["y"] + composer["height"] - 1, (composer, under)
    for label in (label for row in MENU for label in row):
        assert await page.locator("#log").get_by_role("button", name=label).count() == 0
        key = keys.get_by_role("button", name=label, exact=True)
        box = await key.bounding_box()
        assert box is not None and box["height"] >= 44, (label, box)
        assert await font_px(key) >= 17
    await expect(page.locator("#keys")).to_be_visible()  # ⌨: put it away, bring it back


async def test_resident_onboards_in_the_demo_page(demo: str) -> None:
    async with chromium_browser() as browser:
        from playwright.async_api import expect

        page = await browser.new_page(viewport=DESKTOP)
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
        await assert_menu_under_the_input(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "demo-onboarding.png"))


async def test_the_main_menu_under_the_input_field_on_a_phone(tmp_path: Path) -> None:
    """李阿姨, 70, on a 390 px phone: once she says where she lives, the main menu stays under the
    input field (in no message), in big keys; she files a complaint and looks at it by tapping
    only; the menu is still there after a reload and after the demo restarts. Screenshot:
    menu-390.png."""
    async with chromium_browser() as browser, running_demo(tmp_path) as running:
        from playwright.async_api import expect

        context = await browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        page = await context.new_page()
        await page.goto(running.url)
        await expect(page.locator("#title")).to_contain_text("李阿姨")
        await expect(page.locator("#replykb")).to_be_hidden()  # no keyboard before the bot's
        await expect(page.locator("#keys")).to_be_hidden()
        await expect(page.locator("#text")).to_have_attribute("placeholder", DEFAULT_HINT)
        log, keys = page.locator("#log"), page.locator("#replykb")
        await page.fill("#text", "/start")
        await page.click("#send")
        await log.get_by_role("button", name="中文").last.click(timeout=15000)
        for place in ("北大街道", "西湖社区", "西湖左岸小区"):
            await log.get_by_role("button", name=place).last.click(timeout=15000)
        await expect(log).to_contain_text("不用打字", timeout=15000)
        await assert_menu_under_the_input(page)
        await assert_fits_a_phone(page)

        # ⌨ puts the menu away and brings it back.
        await page.click("#keys")
        await expect(keys).to_be_hidden()
        await expect(page.locator("#keys")).to_have_attribute("aria-expanded", "false")
        await page.click("#keys")
        await expect(keys).to_be_visible()

        # A complaint, by buttons only: each key sends its label, as Telegram's does.
        await keys.get_by_role("button", name="📝 我要反映问题").click()
        await expect(log.locator(".msg.mine").last).to_contain_text("📝 我要反映问题")
        await log.get_by_role("button", name="环境卫生").last.click(timeout=15000)
        await expect(log).to_contain_text("类别：环境卫生", timeout=15000)
        await page.fill("#text", "楼下垃圾桶满了两天没人清")
        await page.click("#send")
        await log.get_by_role("button", name="✅ 提交").last.click(timeout=15000)
        await expect(log).to_contain_text("已登记为", timeout=15000)
        answers = log.locator(".msg:not(.mine)")
        answered = await answers.count()
        await keys.get_by_role("button", name="📋 我的诉求").click()
        await expect(log.locator(".msg.mine").last).to_contain_text("📋 我的诉求")
        await expect(answers).not_to_have_count(answered, timeout=15000)  # the bot answered
        await expect(answers.last).to_contain_text("环境卫生", timeout=15000)
        await assert_menu_under_the_input(page)
        await assert_fits_a_phone(page)
        await shoot(page, "menu-390.png", tmp_path)

        # Another person's chat has its own keyboard: 王建国 has not been given one yet.
        await page.click(f"[data-persona='{WANG}']")
        await expect(page.locator("#title")).to_contain_text("王建国")
        await expect(keys).to_be_hidden()
        await expect(page.locator("#text")).to_have_attribute("placeholder", DEFAULT_HINT)
        await page.click(f"[data-persona='{LI}']")
        await assert_menu_under_the_input(page)

        # Her phone keeps the menu: after a reload, and after the demo (bot and sandbox) restarts.
        await page.reload()
        await assert_menu_under_the_input(page)
        await running.stop()
        await running.start()
        await page.reload()
        await assert_menu_under_the_input(page)
        answered = await answers.count()
        await keys.get_by_role("button", name="❓ 帮助").click()
        await expect(answers).not_to_have_count(answered, timeout=15000)
        await assert_menu_under_the_input(page)


async def test_the_demo_shows_a_complaint_and_its_escalation(demo: str) -> None:
    """王建国 reports a leak; nobody signs; two hours later the branch secretary is chased."""
    async with chromium_browser() as browser:
        from playwright.async_api import expect

        page = await browser.new_page(viewport=DESKTOP)
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

        # The card reached 张师傅 while 王建国's chat was open: his name shows it, until opened.
        zhang = page.locator(f"[data-persona='{ZHANG}']")
        await expect(zhang.locator(".badge")).to_be_visible(timeout=15000)
        await zhang.click()
        await expect(zhang.locator(".badge")).to_be_hidden()
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


async def test_the_demo_on_a_phone_and_a_desktop_screenshots(tmp_path: Path) -> None:
    """王建国 registers (报到) on a 390 px phone, sharing his number: a contact card; the branch
    secretary's name gets an unread marker; every time is the bot's (Asia/Shanghai, a day and a
    half hour ahead) though the browser is in New York. Screenshots at 390 px and 1100 px."""
    async with chromium_browser() as browser, running_demo(tmp_path, clock_offset=SHIFT) as running:
        from playwright.async_api import expect

        phone_context = await browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
            timezone_id="America/New_York", locale="en-US",
        )  # fmt: skip
        desktop_context = await browser.new_context(
            viewport=DESKTOP, timezone_id="America/New_York", locale="en-US"
        )
        page, desktop = await phone_context.new_page(), await desktop_context.new_page()
        for each in (page, desktop):
            await each.goto(running.url)
            await expect(each.locator("#clock")).to_have_text("⏱ +25.5 h")
            await each.click(f"[data-persona='{WANG}']")
            await expect(each.locator("#title")).to_contain_text("王建国")
        await assert_fits_a_phone(page)
        aside = await page.locator("aside").bounding_box()
        assert aside is not None and aside["width"] == PHONE["width"]  # chips above, not a column
        personas = await page.locator("#personas").bounding_box()
        assert personas is not None and personas["height"] < 70  # one row
        assert await font_px(page.locator("#text")) >= 16
        assert await font_px(page.locator(f"[data-persona='{WANG}']")) >= 16

        log = page.locator("#log")
        await page.fill("#text", "/party")
        await page.click("#send")
        await log.get_by_role("button", name="使用“王建国”").last.click(timeout=15000)
        await expect(log).to_contain_text("您住在哪栋楼", timeout=15000)
        await page.fill("#text", "3号楼2单元501")
        await page.click("#send")
        await expect(log).to_contain_text("市第一人民医院党委", timeout=15000)
        await page.fill("#text", "市第一人民医院党委")
        await page.click("#send")
        kind = log.get_by_role("button", name="离退休").last
        await expect(kind).to_be_visible(timeout=15000)
        await assert_fits_a_phone(page)  # an inline keyboard
        await kind.click()
        keys = page.locator("#replykb")
        share = keys.get_by_role("button", name="📱 分享我的手机号")
        await expect(share).to_be_visible(timeout=15000)  # under the input field, not in a message
        assert await log.get_by_role("button", name="📱 分享我的手机号").count() == 0
        assert await share.get_attribute("data-request") == "contact"
        await assert_fits_a_phone(page)  # a reply keyboard
        assert await font_px(share) >= 17
        assert await font_px(log.locator(".msg .text").last) >= 16

        before = time.time()
        await share.click()
        shared = log.locator(".msg.mine:has(.contact)").last
        card = shared.locator(".contact")
        await expect(card).to_be_visible(timeout=15000)
        await expect(card).to_contain_text("王建国")
        await expect(card).to_contain_text("+86 138 0000 1002")
        await expect(log).not_to_contain_text("phone_number")
        # The one-time contact keyboard went with the tap; the bot gave the main menu back.
        await expect(share).to_have_count(0, timeout=15000)
        await expect(keys).to_be_visible(timeout=15000)
        await expect(keys.locator("button").first).to_have_text(MENU[0][0], timeout=15000)
        assert await keyboard_rows(page) == MENU
        await expect(page.locator("#text")).to_have_attribute("placeholder", MENU_HINT)
        await assert_fits_a_phone(page)  # with the menu shown
        shown = await shared.locator(".time").inner_text()
        assert shown in bot_times(before - 1, time.time(), SHIFT), shown
        for text in await log.locator(".time").all_inner_texts():
            assert re.fullmatch(r"\d\d:\d\d", text), text
        bot_day = datetime.fromtimestamp(before + SHIFT, BOT_ZONE)
        await expect(log.locator(".day").last).to_contain_text(f"{bot_day.month}月{bot_day.day}日")

        await expect(log).to_contain_text("提交给小区党支部吗", timeout=15000)
        await log.get_by_role("button", name="✅ 提交").last.click(timeout=15000)
        await expect(log).to_contain_text("已提交给小区党支部", timeout=15000)
        liu = page.locator(f"[data-persona='{LIU}'] .badge")
        await expect(liu).to_be_visible(timeout=15000)  # his approval card came
        await expect(liu).to_have_text(re.compile(r"^[1-9]\d*$"))
        await expect(page.locator(f"[data-persona='{WANG}'] .badge")).to_be_hidden()
        await assert_fits_a_phone(page)

        for each, name in ((page, "demo-390.png"), (desktop, "demo-1100.png")):
            await expect(each.locator(f"[data-persona='{LIU}'] .badge")).to_be_visible()
            await expect(each.locator("#log")).to_contain_text("已提交给小区党支部")
            await assert_menu_under_the_input(each)
            contact = each.locator("#log .msg.mine .contact").last
            await contact.evaluate("e => e.scrollIntoView({block: 'center'})")
            await shoot(each, name, tmp_path)

        await page.click(f"[data-persona='{LIU}']")
        await expect(liu).to_be_hidden()
        await expect(log).to_contain_text("党员报到申请", timeout=15000)

        # Time moved forward: what is said now has the later time; what was said keeps its own.
        await page.click("[data-advance='3600']")
        await expect(page.locator("#clock")).to_have_text("⏱ +26.5 h")
        before = time.time()
        await page.fill("#text", "/help")
        await page.click("#send")
        mine = log.locator(".msg.mine").last
        await expect(mine).to_contain_text("/help", timeout=15000)
        later = await mine.locator(".time").inner_text()
        assert later in bot_times(before - 1, time.time(), SHIFT + 3600), later
        await page.click(f"[data-persona='{WANG}']")
        again = await shared.locator(".time").inner_text()
        assert again == shown


SENT_BY_THE_BOT = (
    '<b>粗体</b> &lt;img src=x onerror="window.pwned=1"&gt; <a href="javascript:window.pwned=2">'
    "脚本</a> <code>/help</code> 发送 /help 查看；1/2 &nbsp; "
    '<a href="https://t.me/lastmeter_bot?start=html_2">邀请</a> '
    "https://t.me/lastmeter_bot?start=text_3"
)


async def send_as_the_bot(url: str, **params: Any) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}bot{TOKEN}/sendMessage", json=params) as response,
    ):
        assert response.status == 200, await response.text()


async def test_commands_links_and_the_bots_html_in_the_demo(demo: str) -> None:
    """The bot's HTML is read as Telegram reads it and never run; /commands send themselves;
    t.me links to the bot (in text, in <a>, on a button) open its chat here and send /start."""
    async with chromium_browser() as browser:
        from playwright.async_api import expect

        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(demo)
        await expect(page.locator("#title")).to_contain_text("李阿姨")
        button = {"text": "打开 open", "url": "https://t.me/lastmeter_bot?start=btn_1"}
        await send_as_the_bot(
            demo, chat_id=1001, text=SENT_BY_THE_BOT, parse_mode="HTML",
            reply_markup={"inline_keyboard": [[button]]},
        )  # fmt: skip
        log = page.locator("#log")
        message = log.locator(".msg", has_text="粗体").last
        await expect(message).to_be_visible(timeout=15000)
        await expect(message.locator("b")).to_have_text("粗体")
        await expect(message).to_contain_text('<img src=x onerror="window.pwned=1">')
        await expect(message).to_contain_text("&nbsp;")  # Telegram knows four named references
        assert await log.locator("img").count() == 0
        assert await message.get_by_text("脚本").get_attribute("href") is None
        assert await message.locator("code a").count() == 0  # a command in code is code
        commands = message.locator("a.cmd")
        assert await commands.all_inner_texts() == ["/help"]  # and "1/2" is no command
        assert await page.evaluate("window.pwned") is None

        pages = len(page.context.pages)
        for opener, start in (
            (message.get_by_role("link", name="邀请"), "html_2"),
            (message.get_by_role("link", name="https://t.me/lastmeter_bot?start=text_3"), "text_3"),
            (message.get_by_role("button", name="打开 open"), "btn_1"),
        ):
            await opener.click()
            await expect(log.locator(".msg.mine").last).to_have_text(
                re.compile(rf"^/start {start}\s*\d\d:\d\d"), timeout=15000
            )
        assert page.url == demo and len(page.context.pages) == pages  # no dead page opened

        answers = log.locator(".msg:not(.mine)")
        answered = await answers.count()
        await commands.first.click()  # sends /help, as a tap on a command in Telegram does
        await expect(log.locator(".msg.mine").last).to_have_text(
            re.compile(r"^/help\s*\d\d:\d\d"), timeout=15000
        )
        await expect(answers).not_to_have_count(answered, timeout=15000)  # the bot answered it

        # /report in the residents group answers with a link to the private chat; tapped, it opens
        # 王建国's chat with the bot and starts a report for the group's compound.
        await page.click(f"[data-persona='{WANG}']")
        await page.click(f"[data-chat='{RESIDENTS_GROUP}']")
        await expect(page.locator("#title")).to_contain_text("西湖左岸小区居民群")
        await page.fill("#text", "/report")
        await page.click("#send")
        await expect(log).to_contain_text("反映问题请私聊我", timeout=15000)
        await log.locator("a", has_text="https://t.me/lastmeter_bot?start=rp_").last.click()
        await expect(page.locator("#title")).to_contain_text("私聊")
        await expect(log.locator(".msg.mine").last).to_contain_text("/start rp_", timeout=15000)
        await expect(log.get_by_role("button", name="物业维修").last).to_be_visible(timeout=15000)
        assert page.url == demo and len(page.context.pages) == pages

        # Something said in the group while the private chat is open: the group is marked.
        group = page.locator(f"[data-chat='{RESIDENTS_GROUP}']")
        await expect(group.locator(".badge")).to_be_hidden()
        await send_as_the_bot(demo, chat_id=RESIDENTS_GROUP, text="本周六 09:00 小区大扫除")
        await expect(group.locator(".badge")).to_have_text("1", timeout=15000)
        await group.click()
        await expect(group.locator(".badge")).to_be_hidden()
        await expect(log).to_contain_text("本周六 09:00 小区大扫除")

        # A one-time keyboard in the group: a tap sends its label and folds it away; ⌨ brings it
        # back; remove_keyboard takes it away. It is the group's: the private chat keeps its own.
        keys, toggle = page.locator("#replykb"), page.locator("#keys")
        one_time = {"keyboard": [[{"text": "👍 收到"}, {"text": "🙋 我参加"}]],
                    "one_time_keyboard": True, "resize_keyboard": True,
                    "input_field_placeholder": "请选择"}  # fmt: skip
        await send_as_the_bot(
            demo, chat_id=RESIDENTS_GROUP, text="周六能来吗？", reply_markup=one_time
        )
        await expect(keys.get_by_role("button", name="🙋 我参加")).to_be_visible(timeout=15000)
        await expect(page.locator("#text")).to_have_attribute("placeholder", "请选择")
        assert await log.get_by_role("button", name="🙋 我参加").count() == 0
        await keys.get_by_role("button", name="🙋 我参加").click()
        await expect(log.locator(".msg.mine").last).to_contain_text("🙋 我参加", timeout=15000)
        await expect(keys).to_be_hidden()
        await expect(toggle).to_be_visible()
        await page.reload()  # folded away still: it was used
        await page.click(f"[data-persona='{WANG}']")
        await page.click(f"[data-chat='{RESIDENTS_GROUP}']")
        await expect(toggle).to_be_visible()
        await expect(keys).to_be_hidden()
        await toggle.click()
        await expect(keys.get_by_role("button", name="👍 收到")).to_be_visible()
        await page.click(f"[data-chat='{WANG}']")
        await expect(page.locator("#title")).to_contain_text("私聊")
        await expect(keys.get_by_role("button", name="👍 收到")).to_have_count(0)  # its own
        await page.click(f"[data-chat='{RESIDENTS_GROUP}']")
        await expect(keys.get_by_role("button", name="👍 收到")).to_be_visible()
        await send_as_the_bot(
            demo, chat_id=RESIDENTS_GROUP, text="好的", reply_markup={"remove_keyboard": True}
        )
        await expect(keys).to_be_hidden(timeout=15000)
        await expect(toggle).to_be_hidden()
        await expect(page.locator("#text")).to_have_attribute("placeholder", DEFAULT_HINT)
