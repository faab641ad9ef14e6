"""The newest demo session, made by hand: one web conversation with every message kind, marker and
attachment kind the Chat panel shows, so a new user sees them all in one place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sessionlens.demo.context import DemoContext, Tenant
from sessionlens.demo.conversation import Messages, handoff
from sessionlens.demo.logs import system_logs
from sessionlens.kinds import AuthorKind, Channel, Mode, SystemEvent


def showcase(
    ctx: DemoContext, t: Tenant, started: dt.datetime, ip_pool: list[tuple[str, Any]]
) -> None:
    """The newest session: one web conversation with every message kind, marker and
    attachment kind the Chat panel shows, so a new user sees them all in one place."""
    sid = ctx.next_id("chat_sessions")
    agent_id, agent_name = t.agents[0]
    customer_id, customer_name = t.customers[0].id, t.customers[0].name
    human_id, human_name = t.humans[0]
    m = Messages(ctx, t, sid, started - dt.timedelta(minutes=30), active=False)
    m.system(SystemEvent.STARTED, {"initiator": "Client"})
    m.say(
        AuthorKind.CUSTOMER,
        "Hi! My jacket arrived with a torn sleeve, see the photo.",
        attachment=("torn-sleeve.png", "image/png", ctx.photo),
    )
    m.say(
        AuthorKind.AI,
        "I'm sorry to hear that! Here is what I can do:\n\n"
        "1. Send a **free replacement** today\n2. Refund the full price\n\n"
        "Our [returns policy](https://example.com/returns) has the details, and your "
        "return code is `RT-90210`.",
        react=True,
        reaction="down",
        quick=True,
        trace=True,
        agent_name=agent_name,
    )
    m.say(AuthorKind.CUSTOMER, "I already asked for a replacement last week. I want a person.")
    m.system(SystemEvent.TRANSFER, {})
    requested = m.last
    m.system(SystemEvent.ASSIGNED, {"name": human_name, "by": t.admin[1]})
    accepted = m.last
    m.say(
        AuthorKind.PRIVATE_NOTE,
        "Second damaged item this month: approve the refund.",
        user=human_id,
    )
    m.say(
        AuthorKind.COPILOT_DRAFT,
        "I'm sorry for the trouble. I have refunded the full price and you keep the jacket.",
        user=human_id,
    )
    m.say(
        AuthorKind.HUMAN,
        f"Hi, this is {human_name.split()[0]}. I'm sorry for the trouble: "
        "I have refunded the full price and you can keep the jacket.",
        user=human_id,
    )
    first_reply = m.last
    m.say(
        AuthorKind.CUSTOMER,
        "Thank you! Here is the invoice for reference.",
        attachment=("invoice-2026-11.pdf", "application/pdf", ctx.pdf),
    )
    m.say(
        AuthorKind.AI,
        "Glad we could help. Was this conversation useful?",
        react=True,
        reaction="up",
    )
    resolved = m.last + dt.timedelta(seconds=40)
    m.system(SystemEvent.RESOLVED, {"name": human_name}, at=resolved)
    handoff(
        ctx,
        t,
        sid,
        agent_id,
        requested,
        accepted=(accepted, human_id),
        first_reply=first_reply,
        resolved=(resolved, human_id),
    )
    finished = m.last + dt.timedelta(seconds=60)
    ip, loc = next((p for p in ip_pool if p[1].country), ip_pool[0])
    ctx.w.add(
        "chat_sessions",
        (
            sid,
            t.id,
            agent_id,
            Channel.WEB,
            customer_id,
            Mode.COPILOT,
            human_id,
            "resolved",
            "client",
            None,
            m.started,
            finished,
            m.last_counted,
            m.counted,
            m.has_attachments,
            ip,
            loc.country,
            loc.country_name,
            loc.city,
            loc.note,
            False,
            {
                "utm_source": "google",
                "utm_campaign": "spring_promo",
                "customer_id": "12345",
                "plan": "Premium",
            },
            {
                "human_name": customer_name,
                "phone_number": "+1-555-0123",
                "promise_to_pay": "promised",
                "payment_date": "2026-02-15",
            },
        ),
    )
    system_logs(ctx, t.id, sid, Channel.WEB, agent_name, m.started, finished, Mode.COPILOT)
    m.flush()
