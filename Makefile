# Last Meter — developer commands. `make check` before every commit.
PY ?= python

.PHONY: install check lint types test test-postgres locales demo demo-screenshots

install:
	$(PY) -m pip install -e ".[dev]"

lint:
	ruff check .
	ruff format --check .

types:
	mypy

# Two workers for the tests that wait on the bot (the machine has two cores), then, alone, the ones
# that kill it at random or measure Telegram's limits (a busy neighbour would skew them).
test:
	$(PY) -m pytest -q -n 2 -m "not serial"
	$(PY) -m pytest -q -m serial

# The storage, delivery and end-to-end tests again, on PostgreSQL: needs a server
# (eval "$$(scripts/services.sh start /tmp/lastmeter-services)" starts one, with Redis). CI runs
# the e2e modules of the core paths (onboarding, complaints and their sweeps, campaigns, webhook);
# PG_TESTS="tests/storage tests/delivery tests/e2e" runs them all (8 min here).
PG_TESTS ?= tests/storage tests/delivery tests/e2e/test_foundation.py \
	tests/e2e/test_complaints.py tests/e2e/test_campaigns.py tests/e2e/test_webhook.py
test-postgres:
	LASTMETER_TEST_DB=postgresql $(PY) -m pytest -q -n 2 -m "not serial" $(PG_TESTS)

check: lint types test

# Re-extract user-visible strings, merge them into the zh/en catalogs and compile them.
# Then translate every empty msgstr in bot/locales/zh/LC_MESSAGES/messages.po (English is the
# source language: an empty en msgstr shows the msgid) and run it again.
locales:
	pybabel extract -F babel.cfg -k _ -k __ -k t -k gettext --no-location --omit-header \
		--sort-output --no-wrap -o bot/locales/messages.pot .
	pybabel update -i bot/locales/messages.pot -d bot/locales -D messages --no-wrap --ignore-obsolete --no-fuzzy-matching
	pybabel compile -d bot/locales -D messages

demo:
	$(PY) -m bot demo

# docs/demo-390.png, docs/demo-1100.png and docs/menu-390.png: the demo page on a phone and a
# desktop, and a resident's main menu on a phone, taken by the browser tests (Debian's chromium
# and CJK fonts; scripts/test.sh installs them).
demo-screenshots:
	LASTMETER_DEMO_SCREENSHOTS=docs LASTMETER_REQUIRE_BROWSER=1 $(PY) -m pytest -q -p no:cacheprovider \
		tests/browser/test_demo_page.py::test_the_demo_on_a_phone_and_a_desktop_screenshots \
		tests/browser/test_demo_page.py::test_the_main_menu_under_the_input_field_on_a_phone
