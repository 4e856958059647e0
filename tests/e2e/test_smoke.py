import pytest

from tests.harness import BotProcess, Person, Sandbox

pytestmark = pytest.mark.e2e


async def test_start_asks_language(sandbox: Sandbox, bot: BotProcess) -> None:
    aunt = Person(2001, "李阿姨", "zh-hans")
    await sandbox.say(aunt, "/start")
    prompt = await sandbox.expect(aunt.id, "请选择语言")
    await sandbox.tap(aunt, prompt, "中文")
    await sandbox.expect(aunt.id)
