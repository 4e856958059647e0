"""aiogram routers, one per feature, joined in one place; order matters (fallback last)."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    activities,
    admin,
    campaigns,
    fallback,
    groups,
    invites,
    lostfound,
    my_complaints,
    onboarding,
    oversight,
    party,
    profile,
    reporting,
    work_orders,
)


def build_root_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        invites.build_router(),  # before onboarding: it takes /start inv_…
        groups.build_router(),  # before onboarding: it takes /start in groups
        reporting.build_router(),  # before onboarding: it takes /start rp_…
        lostfound.build_router(),  # before onboarding: it takes /start lf_…
        activities.build_router(),  # before onboarding: it takes /start pa_…
        party.build_router(),
        campaigns.build_router(),
        work_orders.build_router(),
        oversight.build_router(),
        my_complaints.build_router(),
        onboarding.build_router(),
        profile.build_router(),
        admin.build_router(),
        fallback.build_router(),
    )
    return root
