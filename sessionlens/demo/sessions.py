"""Ordinary demo sessions: every channel by weight, live and finished ones, handovers, delivery
statuses, reactions, attachments, recordings, parameters and results."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sessionlens.channels import VOICE_CHANNELS, WEB_CHANNELS
from sessionlens.demo import content as C
from sessionlens.demo.context import Customer, DemoContext, Tenant
from sessionlens.demo.conversation import Messages, handoff
from sessionlens.demo.logs import system_logs
from sessionlens.kinds import AuthorKind, Channel, Mode, Plan, SystemEvent

CHANNEL_WEIGHTS = {
    Channel.WEB: 30,
    Channel.WHATSAPP: 16,
    Channel.TELEGRAM: 8,
    Channel.EMAIL: 8,
    Channel.FACEBOOK: 5,
    Channel.INSTAGRAM: 5,
    Channel.INTERCOM: 4,
    Channel.CHATWOOT: 3,
    Channel.SIP: 6,
    Channel.TWILIO: 4,
    Channel.INFOBIP: 3,
    Channel.BIRD: 3,
    Channel.MOBILE: 5,
}
DELIVERY_CHANNELS = {
    Channel.WHATSAPP,
    Channel.TELEGRAM,
    Channel.FACEBOOK,
    Channel.INSTAGRAM,
    Channel.TWILIO,
    Channel.INFOBIP,
    Channel.BIRD,
    Channel.EMAIL,
}
_CHANNELS = list(CHANNEL_WEIGHTS)
_WEIGHTS = list(itertools.accumulate(CHANNEL_WEIGHTS.values()))


def session(
    ctx: DemoContext,
    t: Tenant,
    started: dt.datetime,
    *,
    active: bool,
    ip_pool: list[tuple[str, Any]],
    detail_ratio: float,
) -> None:
    """One session of ``t`` on a channel drawn by weight: a topic's lines between customer and AI,
    sometimes a handover to a human agent, a recording on voice channels, its parameters and results,
    and (for ``detail_ratio`` of sessions) System Logs and trace calls."""
    rng = ctx.rng
    sid = ctx.next_id("chat_sessions")
    channel = rng.choices(_CHANNELS, cum_weights=_WEIGHTS)[0]
    agent_id, agent_name = _agent_for(t, channel, rng.choice(t.agents))
    customer = rng.choice(t.customers) if rng.random() < 0.85 else None
    customer_id = customer.id if customer else None
    outbound = channel == Channel.WHATSAPP and rng.random() < 0.25
    r = rng.random()
    mode = Mode.AI if r < 0.75 else Mode.HUMAN if r < 0.93 else Mode.COPILOT
    human = rng.choice(t.humans) if mode != Mode.AI and rng.random() < 0.8 else None
    initiator, initiator_user, initiator_label = "client", None, "Client"
    if outbound:
        initiator, initiator_label = "ai", "AI agent"
    elif channel == Channel.EMAIL and human and rng.random() < 0.3:
        initiator, initiator_user, initiator_label = "human", human[0], human[1]
    detail = rng.random() < detail_ratio
    msgs = Messages(ctx, t, sid, started, active)
    msgs.system(SystemEvent.STARTED, {"initiator": initiator_label})
    topic = rng.choice(C.TOPICS)
    if customer is not None and customer.language != topic.language:
        # A customer writes in their own language in every session: the one drawn gives way to a
        # customer who writes in the topic's, picked without a draw, so that every later draw,
        # and with it every other session, stays as it was (the results draw from three phones
        # and three names whoever the customer is).
        pool = t.speakers[topic.language]
        customer = pool[customer.id % len(pool)]
        customer_id = customer.id
    n_lines = rng.randint(2, len(topic.lines)) if rng.random() < 0.65 else rng.randint(12, 40)
    lines = script(topic, n_lines, sid)
    transfer_at = len(lines) * 0.6 if mode != Mode.AI else None
    reacting = channel == Channel.WEB
    delivering = channel in DELIVERY_CHANNELS
    name = customer.name.split()[0] if customer else "there"
    if outbound:
        msgs.say(
            AuthorKind.AI,
            C.TEMPLATE.format(name=name, order=f"NW-{sid % 90000 + 10000}"),
            template=True,
            delivery=True,
        )
    for j, (author, line) in enumerate(lines):
        if transfer_at is not None and j >= transfer_at:
            break
        if author == AuthorKind.CUSTOMER:
            att = None
            if rng.random() < 0.03:
                att = (
                    ("screenshot.png", "image/png", ctx.png)
                    if rng.random() < 0.6
                    else ("invoice-2026-11.pdf", "application/pdf", ctx.pdf)
                )
            msgs.say(AuthorKind.CUSTOMER, line, attachment=att)
        else:
            msgs.say(
                AuthorKind.AI,
                line,
                delivery=delivering,
                react=reacting,
                quick=rng.random() < 0.1,
                trace=detail and t.plan == Plan.PAID,
                agent_name=agent_name,
            )
    requested: dt.datetime | None = None  # the handover, for the Handoffs page
    accepted: tuple[dt.datetime, int] | None = None
    first_reply: dt.datetime | None = None
    if transfer_at is not None and not msgs.stopped:
        msgs.system(SystemEvent.TRANSFER, {})
        requested = None if msgs.stopped else msgs.last
        if human:
            if rng.random() < 0.5:
                msgs.system(SystemEvent.ASSIGNED, {"name": human[1], "by": t.admin[1]})
            else:
                msgs.system(SystemEvent.ASSIGNED, {"name": human[1]})
            accepted = None if msgs.stopped else (msgs.last, human[0])
            if rng.random() < 0.4:
                msgs.say(AuthorKind.PRIVATE_NOTE, rng.choice(C.NOTES), user=human[0])
            said = C.HUMAN_LINES[topic.language]  # the customer's language, the person's too
            for k, line in enumerate(said[: rng.randint(1, len(said))]):
                if mode == Mode.COPILOT:
                    msgs.say(AuthorKind.COPILOT_DRAFT, C.DRAFTS[topic.language][k], user=human[0])
                msgs.say(
                    AuthorKind.HUMAN,
                    line.format(name=human[1].split()[0]),
                    user=human[0],
                    delivery=delivering,
                )
                if k == 0:
                    first_reply = None if msgs.stopped else msgs.last
                    msgs.say(AuthorKind.CUSTOMER, C.THANKS[topic.language])
    finished = None if active else msgs.last + dt.timedelta(seconds=rng.randint(30, 600))
    if finished is not None and finished > ctx.now:
        finished = None  # it would close in the future: it is still running
    resolved: tuple[dt.datetime, int] | None = None
    if finished and human and mode != Mode.AI and rng.random() < 0.7:
        msgs.system(SystemEvent.RESOLVED, {"name": human[1]}, at=finished)
        resolved = (finished, human[0]) if requested else None
    if channel in VOICE_CHANNELS and rng.random() < 0.7:
        msgs.attach(None, ("call-recording.wav", "audio/wav", ctx.wav), recording=True)
    ip, loc = rng.choice(ip_pool) if channel in WEB_CHANNELS else (None, None)
    status = _status(ctx, t, finished is None, mode)
    ctx.w.add(
        "chat_sessions",
        (
            sid,
            t.id,
            agent_id,
            channel,
            customer_id,
            mode,
            human[0] if human else None,
            status,
            initiator,
            initiator_user,
            started,
            finished,
            msgs.last_counted or started,
            msgs.counted,
            msgs.has_attachments,
            ip,
            loc.country if loc else None,
            loc.country_name if loc else None,
            loc.city if loc else None,
            loc.note if loc else None,
            (rng.random() < 0.4) if channel == Channel.WEB else None,
            _parameters(ctx, channel, outbound, customer_id),
            _results(ctx, t, customer),
        ),
    )
    if requested is not None:
        handoff(
            ctx,
            t,
            sid,
            agent_id,
            requested,
            accepted=accepted,
            first_reply=first_reply,
            resolved=resolved,
        )
    if detail:
        system_logs(ctx, t.id, sid, channel, agent_name, started, finished, mode)
    msgs.flush()
    ctx.w.maybe_flush()


def _agent_for(t: Tenant, channel: str, drawn: tuple[int, str]) -> tuple[int, str]:
    """The tenant's voice agent takes its calls and only those; any other channel keeps the agent
    drawn, or the next one in the list when the voice agent was drawn (no extra random draw)."""
    voice = [a for a in t.agents if a[1].endswith("(Voice)")]
    if channel in VOICE_CHANNELS and voice:
        return voice[0]
    if drawn in voice:
        return t.agents[(t.agents.index(drawn) + 1) % len(t.agents)]
    return drawn


def script(topic: C.Topic, n_lines: int, sid: int) -> list[tuple[AuthorKind, str]]:
    """Up to ``n_lines`` (author, line) pairs: ``topic``'s lines, then, while more are wanted, the
    other topics of its language in an order that follows from the session id (so the demo's
    random draws, and with them every other session, stay as they were), each opened with its
    follow-up line. A conversation never repeats itself; one in a language with a single topic
    ends with it."""
    others = [t for t in C.TOPICS if t.language == topic.language and t is not topic]
    others = others[sid % len(others) :] + others[: sid % len(others)] if others else []
    said: list[tuple[AuthorKind, str]] = []
    for k, t in enumerate([topic, *others]):
        if len(said) >= n_lines:
            break
        for j, line in enumerate(t.lines):
            if k and j == 0:
                line = t.follow_up or line
            said.append((AuthorKind.CUSTOMER if j % 2 == 0 else AuthorKind.AI, line))
    return said[:n_lines]


def _status(ctx: DemoContext, t: Tenant, active: bool, mode: str) -> str:
    if active:
        return "open"
    if t.plan == Plan.FREE:
        return "transferred" if mode != Mode.AI else "closed"
    if mode != Mode.AI and ctx.rng.random() < 0.4:
        return "escalated"
    return ctx.rng.choices(["resolved", "abandoned", "spam"], [85, 12, 3])[0]


def _parameters(
    ctx: DemoContext, channel: str, outbound: bool, customer_id: int | None
) -> dict[str, Any]:
    rng = ctx.rng
    if outbound or rng.random() < 0.15:
        return {
            "utm_source": rng.choice(C.UTM_SOURCES),
            "utm_medium": "cpc",
            "utm_campaign": rng.choice(C.CAMPAIGNS),
        }
    if channel in WEB_CHANNELS and rng.random() < 0.75:
        params: dict[str, Any] = {"page": rng.choice(C.PAGES), "plan": rng.choice(C.PLANS)}
        if customer_id:
            params["customer_id"] = str(10000 + customer_id)
        return params
    return {}


def _results(ctx: DemoContext, t: Tenant, customer: Customer | None) -> dict[str, Any]:
    rng = ctx.rng
    if rng.random() < 0.3:
        return {}
    out: dict[str, Any] = {}
    for f in t.fields:
        if rng.random() < 0.35:
            continue  # not collected
        out[f["key"]] = _result_value(ctx, f, customer)
    return out


# Text values by what the field's key names, three each, as many as the customer's own name or
# phone is repeated in ``_result_value``: every choice draws alike, so the rest of the generated
# data depends neither on which kind a field is nor on who the customer is (``session`` picks a
# customer of the topic's language after the draws and relies on it).
_NAMES = ["John Smith", "Maria Garcia", "Wei Chen"]
_PHONES = ["+1-555-0123", "+49 30 1234567", "+44 20 7946 0958"]
_CODES = ["A-558812", "B-204417", "NW-31877"]


def _result_value(ctx: DemoContext, spec: dict[str, Any], customer: Customer | None) -> Any:
    """A plausible collected value for a configured result field of ``spec["type"]``: a text
    field named for a name holds the customer's name, one named for a phone the customer's phone
    (as the agent collected it; a made-up one when the customer has none on file)."""
    rng, kind = ctx.rng, spec["type"]
    day = (ctx.now + dt.timedelta(days=rng.randint(1, 30))).date()
    if kind == "int":
        return rng.randint(20, 900)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "date":
        return day.isoformat()
    if kind == "datetime":
        return f"{day.isoformat()}T{rng.randint(9, 17):02d}:00:00Z"
    if kind == "list":
        return rng.sample(["delivery", "billing", "returns", "product"], 2)
    if kind == "choice":
        return rng.choice(spec.get("choices") or ["?"])
    key = spec["key"].lower()
    if "name" in key:
        return rng.choice([customer.name] * 3 if customer else _NAMES)
    if "phone" in key:
        return rng.choice([customer.phone] * 3 if customer and customer.phone else _PHONES)
    return rng.choice(_CODES)
