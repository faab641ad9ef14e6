"""Generate a realistic, deterministic demo data set (``sessionlens demo``).

Two tenants (a paid one in Berlin, a Free one in New York), their AI agents, portal users and human
agents, customers, and sessions over all 13 channels with every message kind, marker, attachment kind,
delivery status, reaction, template, quick reply, parameter set, result set and log kind the Sessions
screen shows. The same seed and ``now`` give the same data.

Rows go straight to ``BulkWriter`` (COPY on Postgres), and the derived session columns
(message_count, last_message_at, has_attachments, location) are computed here exactly as the domain's
write functions keep them, so a million sessions load in minutes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from db.models import AuthorKind, Channel, LogKind, Mode, Plan, Role, SystemEvent
from sessionlens.channels import VOICE_CHANNELS, WEB_CHANNELS
from sessionlens.customers import customer_name_key
from sessionlens.demo import assets
from sessionlens.demo import content as C
from sessionlens.demo.conversation import Messages
from sessionlens.demo.writer import BulkWriter
from sessionlens.geo import Locator

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

# Public /16 prefixes in several regions; addresses in them resolve to real countries and cities.
PUBLIC_PREFIXES = [
    "81.2",
    "89.160",
    "216.160",
    "85.214",
    "62.157",
    "91.198",
    "78.46",
    "88.198",
    "151.101",
    "193.0",
    "212.58",
    "80.67",
    "5.9",
    "46.4",
    "176.9",
    "94.130",
    "24.48",
    "73.12",
    "98.137",
    "104.16",
    "66.249",
    "189.1",
    "201.17",
    "177.54",
    "1.1",
    "14.139",
    "58.96",
    "203.0",
    "110.33",
    "49.12",
    "41.203",
    "102.132",
    "200.45",
    "190.0",
    "62.210",
    "185.15",
    "37.120",
    "109.70",
    "84.17",
    "212.27",
]
# Addresses every MaxMind-format database places (GB London, SE Linköping, US Milton, US San Diego).
KNOWN_IPS = ["81.2.69.142", "89.160.20.112", "216.160.83.56", "2001:480:10::1"]
ODD_IPS = ["10.1.2.3", "192.168.0.15", "127.0.0.1", "2001:db8::1", "172.16.4.2"]

SESSION_COLS = [
    "id",
    "tenant_id",
    "agent_id",
    "channel",
    "customer_id",
    "mode",
    "assigned_user_id",
    "status",
    "initiator",
    "initiator_user_id",
    "started_at",
    "finished_at",
    "last_message_at",
    "message_count",
    "has_attachments",
    "ip",
    "country",
    "country_name",
    "city",
    "geo_note",
    "is_mobile",
    "parameters",
    "results",
]
MESSAGE_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "seq",
    "author_kind",
    "author_user_id",
    "text",
    "sent_at",
    "reaction",
    "delivery_status",
    "delivery_at",
    "delivery_note",
    "quick_replies",
    "is_template",
    "system_event",
    "event_data",
]
ATTACHMENT_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "message_id",
    "is_recording",
    "file_name",
    "mime_type",
    "size_bytes",
    "content",
    "created_at",
]
LOG_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "kind",
    "at",
    "level",
    "text",
    "agent_name",
    "prompt",
    "action",
    "action_input",
    "message_id",
]


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tenant:
    id: int
    name: str
    tz: str
    plan: str
    statuses: list[str]
    fields: list[dict[str, Any]]
    agents: list[tuple[int, str]] = field(default_factory=list)
    humans: list[tuple[int, str]] = field(default_factory=list)
    admin: tuple[int, str] = (0, "")
    customers: list[tuple[int, str]] = field(default_factory=list)


def generate(
    conn: Connection,
    *,
    locator: Locator,
    sessions: int = 2000,
    seed: int = 7,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write the demo data set with ``sessions`` chat sessions through ``conn`` (caller commits)."""
    now = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    gen = _Generator(conn, locator, random.Random(seed), now, sessions)
    gen.run(progress)
    return DemoSummary(dict(gen.w.counts))


class _Generator:
    def __init__(
        self, conn: Connection, locator: Locator, rng: random.Random, now: dt.datetime, n: int
    ):
        self.rng, self.now, self.n = rng, now, n
        self.w = BulkWriter(conn)
        for name, cols in (
            (
                "tenants",
                ["id", "name", "timezone", "plan", "statuses", "result_fields", "created_at"],
            ),
            ("users", ["id", "tenant_id", "name", "email", "role", "is_human_agent", "avatar"]),
            ("agents", ["id", "tenant_id", "name"]),
            (
                "customers",
                [
                    "id",
                    "tenant_id",
                    "name",
                    "name_key",
                    "email",
                    "phone",
                    "telegram",
                    "whatsapp",
                    "linkedin",
                    "external_id",
                    "custom_fields",
                ],
            ),
            ("chat_sessions", SESSION_COLS),
            ("messages", MESSAGE_COLS),
            ("attachments", ATTACHMENT_COLS),
            ("session_logs", LOG_COLS),
        ):
            self.w.table(name, cols)
        self.ids = {t: self.w.next_id(t) for t in self.w.counts}
        if n >= 100_000:
            self.w.defer_indexes(["chat_sessions", "messages", "attachments", "session_logs"])
        # Large data sets keep logs and traces on a sample of sessions, as production does.
        self.detail_ratio = 1.0 if n <= 20_000 else 0.05
        self.ip_pool = self._ip_pool(locator)
        self.png, self.pdf, self.wav = assets.png(), assets.pdf(), assets.wav()
        self.channels = list(CHANNEL_WEIGHTS)
        self.weights = list(itertools.accumulate(CHANNEL_WEIGHTS.values()))

    def _id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] += 1
        return value

    # --- reference data --------------------------------------------------------------------------
    def _ip_pool(self, locator: Locator) -> list[tuple[str, Any]]:
        rng = self.rng
        pool = []
        for i in range(600):
            ip = f"{rng.choice(PUBLIC_PREFIXES)}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
            if i % 60 == 0:
                ip = ODD_IPS[(i // 60) % len(ODD_IPS)]
            elif i % 12 == 1:
                ip = KNOWN_IPS[(i // 12) % len(KNOWN_IPS)]
            pool.append((ip, locator.locate(ip)))
        return pool

    def _tenants(self) -> list[_Tenant]:
        t1 = _Tenant(
            self._id("tenants"),
            "Northwind Outfitters",
            "Europe/Berlin",
            Plan.PAID,
            ["open", "resolved", "escalated", "abandoned", "spam"],
            [
                {"key": "human_name", "label": "Human Name", "type": "str"},
                {"key": "phone_number", "label": "Phone Number", "type": "str"},
                {
                    "key": "promise_to_pay",
                    "label": "Promise to Pay",
                    "type": "choice",
                    "choices": ["promised", "refused", "undecided"],
                },
                {"key": "payment_date", "label": "Payment Date", "type": "date"},
                {"key": "order_total", "label": "Order Total", "type": "int"},
                {"key": "newsletter", "label": "Newsletter Opt-in", "type": "bool"},
                {"key": "callback_at", "label": "Callback At", "type": "datetime"},
                {"key": "topics", "label": "Topics", "type": "list"},
            ],
        )
        t2 = _Tenant(
            self._id("tenants"),
            "Bluebird Telecom",
            "America/New_York",
            Plan.FREE,
            ["open", "closed", "transferred"],
            [
                {"key": "account_number", "label": "Account Number", "type": "str"},
                {
                    "key": "issue",
                    "label": "Issue",
                    "type": "choice",
                    "choices": ["billing", "outage", "upgrade"],
                },
            ],
        )
        staff = {
            t1.id: [
                ("Dana Whitfield", Role.ADMIN, False, "DW"),
                ("Luis Ortega", Role.LEAD, False, "LO"),
                ("Grace Kim", Role.OPERATOR, True, "👩‍💼"),
                ("Tobias Brandt", Role.OPERATOR, True, "🧑‍💻"),
                ("Amara Nwosu", Role.OPERATOR, True, "👩🏾‍🔧"),
                ("Kenji Sato", Role.OPERATOR, True, "🧑‍🚀"),
                ("Elena Petrova", Role.OPERATOR, True, "👩‍🏫"),
                ("Viewer Vic", Role.VIEWER, False, "VV"),
            ],
            t2.id: [
                ("Sam Carter", Role.ADMIN, False, "SC"),
                ("Riley Brooks", Role.OPERATOR, True, "🧑‍🔧"),
                ("Jordan Lee", Role.OPERATOR, True, "👨‍💼"),
            ],
        }
        agents = {
            t1.id: [
                "Aria (Support)",
                "Max (Sales)",
                "Nova (Billing)",
                "Echo (Voice)",
                "Sage (Onboarding)",
            ],
            t2.id: ["Blue Assistant", "Billing Bot"],
        }
        for t in (t1, t2):
            self.w.add(
                "tenants",
                (
                    t.id,
                    t.name,
                    t.tz,
                    t.plan,
                    t.statuses,
                    t.fields,
                    self.now - dt.timedelta(days=400),
                ),
            )
            for name, role, human, avatar in staff[t.id]:
                uid = self._id("users")
                email = (
                    name.lower().replace(" ", ".") + "@" + t.name.split()[0].lower() + ".example"
                )
                self.w.add("users", (uid, t.id, name, email, role, human, avatar))
                if human:
                    t.humans.append((uid, name))
                if role == Role.ADMIN:
                    t.admin = (uid, name)
            for name in agents[t.id]:
                aid = self._id("agents")
                self.w.add("agents", (aid, t.id, name))
                t.agents.append((aid, name))
        return [t1, t2]

    def _customers(self, t: _Tenant, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            cid = self._id("customers")
            first, last = rng.choice(C.FIRST), rng.choice(C.LAST)
            name = f"{first} {last}"
            handle = f"{first}.{last}".lower().replace("'", "")
            phone = f"+49 151 {rng.randrange(1000000, 9999999)}" if rng.random() < 0.7 else None
            self.w.add(
                "customers",
                (
                    cid,
                    t.id,
                    name,
                    customer_name_key(name),
                    f"{handle}@example.com" if rng.random() < 0.8 else None,
                    phone,
                    f"@{handle.replace('.', '_')}" if rng.random() < 0.3 else None,
                    phone if phone and rng.random() < 0.5 else None,
                    f"https://www.linkedin.com/in/{handle.replace('.', '-')}"
                    if rng.random() < 0.2
                    else None,
                    f"CRM-{cid:06d}" if rng.random() < 0.9 else None,
                    {"segment": rng.choice(["retail", "b2b", "vip"])},
                ),
            )
            t.customers.append((cid, name))

    # --- sessions --------------------------------------------------------------------------------
    def run(self, progress: Callable[[int], None] | None) -> None:
        tenants = self._tenants()
        shares = [(tenants[0], 0.85), (tenants[1], 0.15)]
        for t, share in shares:
            self._customers(t, max(30, int(self.n * share / 3)))
        # Start times in order so ids grow with time, as in production; the newest few are live.
        span = dt.timedelta(days=90 if self.n <= 20_000 else 540).total_seconds()
        live = max(6, self.n // 60)
        offsets = sorted((self.rng.random() * span for _ in range(self.n - live)), reverse=True)
        offsets += [(live - j) * 150.0 + self.rng.random() * 100 for j in range(live)]
        for i, off in enumerate(offsets):
            t = tenants[0] if self.rng.random() < 0.85 else tenants[1]
            started = self.now - dt.timedelta(seconds=off + 60)
            if i == self.n - 1:
                self._showcase(tenants[0], started)
            else:
                self._session(t, started, active=i >= self.n - live and self.rng.random() < 0.85)
            if progress and (i + 1) % 1000 == 0:
                progress(1000)
        self.w.finish()
        if progress:
            progress(self.n % 1000)

    def _session(self, t: _Tenant, started: dt.datetime, active: bool) -> None:
        rng = self.rng
        sid = self._id("chat_sessions")
        channel = rng.choices(self.channels, cum_weights=self.weights)[0]
        agent_id, agent_name = rng.choice(t.agents)
        customer = rng.choice(t.customers) if rng.random() < 0.85 else None
        customer_id = customer[0] if customer else None
        outbound = channel == Channel.WHATSAPP and rng.random() < 0.25
        r = rng.random()
        mode = Mode.AI if r < 0.75 else Mode.HUMAN if r < 0.93 else Mode.COPILOT
        human = rng.choice(t.humans) if mode != Mode.AI and rng.random() < 0.8 else None
        initiator, initiator_user, initiator_label = "client", None, "Client"
        if outbound:
            initiator, initiator_label = "ai", "AI agent"
        elif channel == Channel.EMAIL and human and rng.random() < 0.3:
            initiator, initiator_user, initiator_label = "human", human[0], human[1]
        detail = rng.random() < self.detail_ratio
        msgs = Messages(self, t, sid, started, active)
        msgs.system(SystemEvent.STARTED, {"initiator": initiator_label})
        topic = rng.choice(C.TOPICS)
        n_lines = rng.randint(2, len(topic)) if rng.random() < 0.65 else rng.randint(12, 40)
        transfer_at = n_lines * 0.6 if mode != Mode.AI else None
        reacting = channel == Channel.WEB
        delivering = channel in DELIVERY_CHANNELS
        name = customer[1].split()[0] if customer else "there"
        if outbound:
            msgs.say(
                AuthorKind.AI,
                C.TEMPLATE.format(name=name, order=f"NW-{sid % 90000 + 10000}"),
                template=True,
                delivery=True,
            )
        for j in range(n_lines):
            if transfer_at is not None and j >= transfer_at:
                break
            line = topic[j % len(topic)]
            if j % 2 == 0:
                att = None
                if rng.random() < 0.03:
                    att = (
                        ("screenshot.png", "image/png", self.png)
                        if rng.random() < 0.6
                        else ("invoice-2026-11.pdf", "application/pdf", self.pdf)
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
        if transfer_at is not None and not msgs.stopped:
            msgs.system(SystemEvent.TRANSFER, {})
            if human:
                if rng.random() < 0.5:
                    msgs.system(SystemEvent.ASSIGNED, {"name": human[1], "by": t.admin[1]})
                else:
                    msgs.system(SystemEvent.ASSIGNED, {"name": human[1]})
                if rng.random() < 0.4:
                    msgs.say(AuthorKind.PRIVATE_NOTE, rng.choice(C.NOTES), user=human[0])
                for k, line in enumerate(C.HUMAN_LINES[: rng.randint(1, 4)]):
                    if mode == Mode.COPILOT:
                        msgs.say(AuthorKind.COPILOT_DRAFT, C.DRAFTS[k % 2], user=human[0])
                    msgs.say(
                        AuthorKind.HUMAN,
                        line.format(name=human[1].split()[0]),
                        user=human[0],
                        delivery=delivering,
                    )
                    if k == 0:
                        msgs.say(AuthorKind.CUSTOMER, "Thank you, that would be great.")
        finished = None if active else msgs.last + dt.timedelta(seconds=rng.randint(30, 600))
        if finished is not None and finished > self.now:
            finished = None  # it would close in the future: it is still running
        if finished and human and mode != Mode.AI and rng.random() < 0.7:
            msgs.system(SystemEvent.RESOLVED, {"name": human[1]}, at=finished)
        if channel in VOICE_CHANNELS and rng.random() < 0.7:
            msgs.attach(None, ("call-recording.wav", "audio/wav", self.wav), recording=True)
        ip, loc = rng.choice(self.ip_pool) if channel in WEB_CHANNELS else (None, None)
        status = self._status(t, finished is None, mode)
        self.w.add(
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
                self._parameters(channel, outbound, customer_id),
                self._results(t),
            ),
        )
        if detail:
            self._system_logs(t, sid, channel, agent_name, started, finished, mode)
        msgs.flush()
        self.w.maybe_flush()

    def _showcase(self, t: _Tenant, started: dt.datetime) -> None:
        """The newest session: one web conversation with every message kind, marker and
        attachment kind the Chat panel shows, so a new user sees them all in one place."""
        sid = self._id("chat_sessions")
        agent_id, agent_name = t.agents[0]
        customer_id, customer_name = t.customers[0]
        human_id, human_name = t.humans[0]
        m = Messages(self, t, sid, started - dt.timedelta(minutes=30), active=False)
        m.system(SystemEvent.STARTED, {"initiator": "Client"})
        m.say(
            AuthorKind.CUSTOMER,
            "Hi! My jacket arrived with a torn sleeve, see the photo.",
            attachment=("torn-sleeve.png", "image/png", self.png),
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
        m.system(SystemEvent.ASSIGNED, {"name": human_name, "by": t.admin[1]})
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
        m.say(
            AuthorKind.CUSTOMER,
            "Thank you! Here is the invoice for reference.",
            attachment=("invoice-2026-11.pdf", "application/pdf", self.pdf),
        )
        m.say(
            AuthorKind.AI,
            "Glad we could help. Was this conversation useful?",
            react=True,
            reaction="up",
        )
        m.system(SystemEvent.RESOLVED, {"name": human_name}, at=m.last + dt.timedelta(seconds=40))
        finished = m.last + dt.timedelta(seconds=60)
        ip, loc = next((p for p in self.ip_pool if p[1].country), self.ip_pool[0])
        self.w.add(
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
        self._system_logs(t, sid, Channel.WEB, agent_name, m.started, finished, Mode.COPILOT)
        m.flush()

    def _status(self, t: _Tenant, active: bool, mode: str) -> str:
        if active:
            return "open"
        if t.plan == Plan.FREE:
            return "transferred" if mode != Mode.AI else "closed"
        if mode != Mode.AI and self.rng.random() < 0.4:
            return "escalated"
        return self.rng.choices(["resolved", "abandoned", "spam"], [85, 12, 3])[0]

    def _parameters(self, channel: str, outbound: bool, customer_id: int | None) -> dict[str, Any]:
        rng = self.rng
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

    def _results(self, t: _Tenant) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.3:
            return {}
        out: dict[str, Any] = {}
        for f in t.fields:
            if rng.random() < 0.35:
                continue  # not collected
            out[f["key"]] = self._result_value(f)
        return out

    def _result_value(self, spec: dict[str, Any]) -> Any:
        """A plausible collected value for a configured result field of ``spec["type"]``."""
        rng, kind = self.rng, spec["type"]
        day = (self.now + dt.timedelta(days=rng.randint(1, 30))).date()
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
        return rng.choice(["John Smith", "+1-555-0123", "A-558812"])

    def _system_logs(
        self,
        t: _Tenant,
        sid: int,
        channel: str,
        agent: str,
        started: dt.datetime,
        finished: dt.datetime | None,
        mode: str,
    ) -> None:
        lines: list[tuple[int | None, str, str]] = [
            (0, "INFO", f"Session opened: channel={channel} agent={agent!r}"),
            (1, "INFO", "Initialization: loaded agent configuration and session parameters"),
            (5, "INFO", "Tool call: lookup_order(order_id='NW-48213') -> status=in_transit"),
        ]
        if mode != Mode.AI:
            lines += [
                (40, "INFO", "Tool call: handover_to_operator(reason='customer request')"),
                (41, "INFO", "Notification: session queued for human agents"),
            ]
        lines.append((60, "INFO", "Session saved"))
        if finished:
            lines.append((None, "INFO", "Session closed"))
        for secs, level, text in lines:
            at = finished if secs is None else started + dt.timedelta(seconds=secs)
            self.w.add(
                "session_logs",
                (
                    self._id("session_logs"),
                    t.id,
                    sid,
                    LogKind.SYSTEM,
                    at,
                    level,
                    text,
                    None,
                    None,
                    None,
                    None,
                    None,
                ),
            )
