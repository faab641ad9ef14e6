"""The reference rows of the demo: two tenants with their staff and AI agents, their customers, and
a pool of client addresses located by the same GeoIP reader the app uses."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sessionlens import auth
from sessionlens.customers import customer_name_key
from sessionlens.demo import content as C
from sessionlens.demo.context import Customer, DemoContext, Tenant
from sessionlens.geo import Locator
from sessionlens.kinds import Plan, Role
from sessionlens.search_tokens import phone_key

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


def ip_pool(ctx: DemoContext, locator: Locator) -> list[tuple[str, Any]]:
    """600 client addresses with their locations: mostly public, some every database knows, and a
    few private or documentation addresses that locate nowhere."""
    rng = ctx.rng
    pool = []
    for i in range(600):
        ip = f"{rng.choice(PUBLIC_PREFIXES)}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
        if i % 60 == 0:
            ip = ODD_IPS[(i // 60) % len(ODD_IPS)]
        elif i % 12 == 1:
            ip = KNOWN_IPS[(i // 12) % len(KNOWN_IPS)]
        pool.append((ip, locator.locate(ip)))
    return pool


#: Where the demo's people have their addresses (``tenants``: the tenant name's first word).
DEMO_DOMAINS = ("northwind.example", "bluebird.example")


def tenants(ctx: DemoContext) -> list[Tenant]:
    """A paid tenant in Berlin with result fields of every type, and a Free one in New York; each
    with an admin, operators who are human agents, a viewer and its AI agents."""
    t1 = Tenant(
        ctx.next_id("tenants"),
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
    t2 = Tenant(
        ctx.next_id("tenants"),
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
            ("Uma Newcomer", Role.USER, False, "UN"),
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
    created = ctx.now - dt.timedelta(days=400)
    # Every demo account signs in with auth.DEMO_PASSWORD (the README lists them); one hash, with a
    # fixed salt, keeps the data set the same for the same seed.
    hashed = auth.demo_password_hash()
    for t in (t1, t2):
        ctx.w.add("tenants", (t.id, t.name, t.tz, t.plan, t.statuses, t.fields, created))
        for name, role, human, avatar in staff[t.id]:
            uid = ctx.next_id("users")
            email = name.lower().replace(" ", ".") + "@" + t.name.split()[0].lower() + ".example"
            ctx.w.add("users", (uid, t.id, name, email, role, human, avatar, hashed))
            if human:
                t.humans.append((uid, name))
            if role == Role.ADMIN:
                t.admin = (uid, name)
        for name in agents[t.id]:
            aid = ctx.next_id("agents")
            ctx.w.add("agents", (aid, t.id, name))
            t.agents.append((aid, name))
    return [t1, t2]


def customers(ctx: DemoContext, t: Tenant, count: int) -> None:
    """``count`` customers of ``t`` with a mix of known and missing contact fields."""
    rng = ctx.rng
    taken: dict[str, int] = {}  # two people of one name have addresses of their own
    for _ in range(count):
        cid = ctx.next_id("customers")
        first, last = rng.choice(C.FIRST), rng.choice(C.LAST)
        name = f"{first} {last}"
        handle = _ascii(f"{first}.{last}".lower().replace("'", ""))
        taken[handle] = taken.get(handle, 0) + 1
        handle += str(taken[handle]) if taken[handle] > 1 else ""
        phone = f"+49 151 {rng.randrange(1000000, 9999999)}" if rng.random() < 0.7 else None
        whatsapp = phone if phone and rng.random() < 0.5 else None
        ctx.w.add(
            "customers",
            (
                cid,
                t.id,
                name,
                customer_name_key(name),
                f"{handle}@example.com" if rng.random() < 0.8 else None,
                phone,
                f"@{handle.replace('.', '_')}" if rng.random() < 0.3 else None,
                whatsapp,
                f"https://www.linkedin.com/in/{handle.replace('.', '-')}"
                if rng.random() < 0.2
                else None,
                f"CRM-{cid:06d}" if rng.random() < 0.9 else None,
                {"segment": rng.choice(["retail", "b2b", "vip"])},
                phone_key(phone, whatsapp),
            ),
        )
        customer = Customer(cid, name, phone, C.LANGUAGES[len(t.customers) % len(C.LANGUAGES)])
        t.customers.append(customer)
        t.speakers.setdefault(customer.language, []).append(customer)


def _ascii(handle: str) -> str:
    """``maría.müller`` as a mail provider, Telegram or LinkedIn would spell it: ``maria.muller``."""
    return unicodedata.normalize("NFKD", handle).encode("ascii", "ignore").decode()
