"""aiogram routers, one per feature, joined in one place under two parents that carry the chat
type once: `private` (a person's own chat with the bot) and `groups`. A parent's filter is on its
messages only, so a feature's buttons are found wherever the card stands (a ticket card in a
staff group is pressed there). Order matters: deep links before /start, the fallback last."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.handler import CallableObject

from handlers import (
    activities,
    admin,
    campaigns,
    fallback,
    groups,
    households,
    invites,
    lostfound,
    menu,
    my_complaints,
    onboarding,
    oversight,
    party,
    profile,
    proxy,
    reporting,
    stars,
    topics,
    wizard,
    work_orders,
)
from handlers.index import Index

# Every form of the private chat, on the one conversation engine (handlers/wizard.py).
FLOWS = wizard.Wizard(
    reporting.REPORT,
    lostfound.REPORT,
    party.REGISTRATION,
    activities.PLAN,
    campaigns.PLAN,
    households.CLAIM,
    households.REASON,
    households.APPOINT,
    proxy.PROXY,
    topics.PROPOSE,
    topics.DECLINE,
    topics.VOTE,
    topics.MINUTES,
    topics.OBJECT,
    stars.ADJUST,
    stars.ENTER,
    stars.OBJECT,
    stars.ANSWER,
)


# What a person asked for before they had said where they live, resumed once they have.
onboarding.RESUME.update(
    {
        onboarding.Intent.REPORT: reporting.report,
        onboarding.Intent.LOST: lambda actor, desk, state, _text: lostfound.report_lost(
            actor, desk, state
        ),
        onboarding.Intent.FOUND: lambda actor, desk, state, _text: lostfound.report_found(
            actor, desk, state
        ),
        onboarding.Intent.PARTY: lambda actor, desk, state, _text: party.registration(
            actor, desk, state
        ),
        onboarding.Intent.HOME: lambda actor, desk, state, _text: households.my_home(
            actor, desk, state
        ),
    }
)


def build_root_router() -> Router:
    private = Index(name="private")
    private.message.filter(F.chat.type == "private")
    private.include_routers(
        menu.private_router(),  # its buttons work like commands, in any state
        invites.private_router(),  # before onboarding: it takes /start inv_…
        reporting.private_router(),  # before onboarding: it takes /start rp_…
        lostfound.private_router(),  # before onboarding: it takes /start lf_…
        activities.private_router(),  # before onboarding: it takes /start pa_…
        households.private_router(),  # before onboarding: it takes /start hc_…
        topics.private_router(),  # before onboarding: it takes /start tp_…
        stars.private_router(),  # before onboarding: it takes /start so_…
        party.private_router(),
        campaigns.private_router(),
        work_orders.private_router(),
        oversight.private_router(),
        my_complaints.private_router(),
        onboarding.private_router(),
        profile.private_router(),
        admin.private_router(),
        FLOWS.router(),  # the forms' answers (commands above still work in the middle of one)
        fallback.private_router(),
    )
    in_groups = Index(name="groups")
    in_groups.message.filter(F.chat.type.in_(groups.GROUP_TYPES))
    in_groups.my_chat_member.filter(F.chat.type.in_(groups.GROUP_TYPES))
    in_groups.include_routers(
        groups.group_router(),
        reporting.group_router(),
        lostfound.group_router(),
        fallback.group_router(),
    )
    root = Router(name="root")
    root.include_routers(private, in_groups, fallback.buttons_router())
    private.index()
    in_groups.index()
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in (observer._handler, *observer.handlers):  # the observer's own filters
                for check in (handler, *(handler.filters or ())):
                    run_in_loop(check)
    return root


def run_in_loop(check: CallableObject) -> None:
    """aiogram awaits a synchronous filter or handler in a worker thread (`asyncio.to_thread`):
    a thread's hand-off, both ways, for each magic filter (`F.text`, `F.chat.type == …`) of each
    handler an update is tried against — about a tenth of an update's CPU (issue 24). Ours are
    quick checks of the update that neither block nor do I/O: they run in the loop."""
    if check.awaitable:
        return
    sync: Callable[..., Any] = check.callback

    async def checked(*args: Any, **kwargs: Any) -> Any:
        return sync(*args, **kwargs)

    check.callback, check.awaitable = checked, True
