"""Each filter of the spec, alone, against the demo data; the URL form; tenant-time boundaries."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import ChatSession, Mode
from sessionlens import filter_options, filter_query, sessions
from sessionlens.errors import BadInput
from sessionlens.filters import Compare, Responsible, SessionFilter
from tests.conftest import NOW
from tests.helpers import actor

BERLIN = "Europe/Berlin"


def _ids(db, who, flt):
    rows, cursor = [], None
    while True:
        page = sessions.list_page(db, flt, cursor=cursor, actor=who, limit=100)
        rows += [r.id for r in page.rows]
        if not page.next_cursor:
            return rows
        cursor = page.next_cursor


def _expected(db, who, pred):
    all_rows = db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
    ).all()
    return [cs.id for cs in all_rows if pred(cs)]


def _some(db, who, column):
    return db.scalar(
        select(column).where(ChatSession.tenant_id == who.tenant_id, column.is_not(None)).limit(1)
    )


CASES = {
    "agent": lambda db, who: (
        SessionFilter(agent_ids=(a := _some(db, who, ChatSession.agent_id),)),
        lambda cs: cs.agent_id == a,
    ),
    "channel": lambda db, who: (
        SessionFilter(channels=("web", "email")),
        lambda cs: cs.channel in ("web", "email"),
    ),
    "responsible human": lambda db, who: (
        SessionFilter(responsible=Responsible.HUMAN),
        lambda cs: cs.mode != Mode.AI,
    ),
    "responsible ai": lambda db, who: (
        SessionFilter(responsible=Responsible.AI),
        lambda cs: cs.mode == Mode.AI,
    ),
    "human agent": lambda db, who: (
        SessionFilter(human_agent_ids=(h := _some(db, who, ChatSession.assigned_user_id),)),
        lambda cs: cs.assigned_user_id == h,
    ),
    "user": lambda db, who: (
        SessionFilter(customer_ids=(c := _some(db, who, ChatSession.customer_id),)),
        lambda cs: cs.customer_id == c,
    ),
    "status": lambda db, who: (
        SessionFilter(statuses=("open", "escalated")),
        lambda cs: cs.status in ("open", "escalated"),
    ),
    "country": lambda db, who: (
        SessionFilter(countries=("GB", "SE")),
        lambda cs: cs.country in ("GB", "SE"),
    ),
    "ip": lambda db, who: (
        SessionFilter(ip=(ip := _some(db, who, ChatSession.ip))),
        lambda cs: cs.ip == ip,
    ),
    "start range": lambda db, who: (
        SessionFilter(
            started_from=NOW - dt.timedelta(days=20), started_to=NOW - dt.timedelta(days=10)
        ),
        lambda cs: NOW - dt.timedelta(days=20) <= cs.started_at < NOW - dt.timedelta(days=10),
    ),
    "finish open end": lambda db, who: (
        SessionFilter(finished_from=NOW - dt.timedelta(days=5)),
        lambda cs: cs.finished_at is not None and cs.finished_at >= NOW - dt.timedelta(days=5),
    ),
    "last message open start": lambda db, who: (
        SessionFilter(last_message_to=NOW - dt.timedelta(days=60)),
        lambda cs: cs.last_message_at < NOW - dt.timedelta(days=60),
    ),
    "messages >= 10": lambda db, who: (
        SessionFilter(messages_op=Compare.GE, messages_count=10),
        lambda cs: cs.message_count >= 10,
    ),
    "messages != 3": lambda db, who: (
        SessionFilter(messages_op=Compare.NE, messages_count=3),
        lambda cs: cs.message_count != 3,
    ),
    "messages < 3": lambda db, who: (
        SessionFilter(messages_op=Compare.LT, messages_count=3),
        lambda cs: cs.message_count < 3,
    ),
    "messages == 5": lambda db, who: (
        SessionFilter(messages_op=Compare.EQ, messages_count=5),
        lambda cs: cs.message_count == 5,
    ),
    "messages <= 4": lambda db, who: (
        SessionFilter(messages_op=Compare.LE, messages_count=4),
        lambda cs: cs.message_count <= 4,
    ),
    "has attachments": lambda db, who: (
        SessionFilter(has_attachments=True),
        lambda cs: cs.has_attachments,
    ),
    "combined": lambda db, who: (
        SessionFilter(
            channels=("web",), responsible=Responsible.AI, messages_op=Compare.GT, messages_count=4
        ),
        lambda cs: cs.channel == "web" and cs.mode == Mode.AI and cs.message_count > 4,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_filter_returns_exactly_the_matching_sessions(db, case):
    who = actor(db)
    flt, pred = CASES[case](db, who)
    expected = _expected(db, who, pred)
    assert _ids(db, who, flt) == expected
    assert expected, f"demo data has no session for {case}: the test would prove nothing"


def test_unknown_ids_and_statuses_are_clear_messages(db):
    who = actor(db)
    with pytest.raises(BadInput, match="Agents filter: no such agent with id 999999"):
        sessions.list_page(db, SessionFilter(agent_ids=(999999,)), actor=who)
    with pytest.raises(BadInput, match="'nope' is not a status"):
        sessions.list_page(db, SessionFilter(statuses=("nope",)), actor=who)
    other = actor(db, 1)
    their_agent = filter_options.agents(db, actor=other)[0].id
    with pytest.raises(BadInput, match="no such agent"):
        sessions.list_page(db, SessionFilter(agent_ids=(int(their_agent),)), actor=who)


def test_customer_search_finds_by_name_prefix_and_exact_id_only_in_tenant(db):
    who = actor(db)
    cid = _some(db, who, ChatSession.customer_id)
    found = filter_options.search_customers(db, str(cid), actor=who)
    assert str(cid) in [c.id for c in found]
    name = found[0].label.split(" ")[0]
    by_name = filter_options.search_customers(db, name[:3].lower(), actor=who)
    assert by_name and all(
        c.label.lower().startswith(name[:3].lower()) or c.id == str(cid) for c in by_name
    )
    assert filter_options.search_customers(db, "%", actor=who) == []
    # What looks like an id and is not one is no id: a superscript, a number past the column
    # (a 500 on SQLite: "Python int too large"), thousands of digits, another script's digits.
    for typed in ("²", "9" * 20, "1" * 5000, "١٢", "0"):
        assert filter_options.search_customers(db, typed, actor=who) == [], typed
    other = actor(db, 1)
    assert str(cid) not in [
        c.id for c in filter_options.search_customers(db, str(cid), actor=other)
    ]


def test_a_customer_is_found_by_any_word_of_their_name(db):
    """A lead remembers "the O'Brien complaint" or "Kim": 360 View's finder, the Users filter and
    the import's picker find a customer from the start of any word of their name, in any case,
    with or without accents and punctuation; a piece from a word's middle does not, nor another
    tenant's customer."""
    from db.models import Customer
    from sessionlens.customers import customer_name_key

    who = actor(db)
    nora = Customer(
        tenant_id=who.tenant_id,
        name="Noor O'Sullivan-Håkansson",
        name_key=customer_name_key("Noor O'Sullivan-Håkansson"),
    )
    theirs = Customer(
        tenant_id=actor(db, 1).tenant_id,
        name="Noor O'Sullivan-Håkansson",
        name_key=customer_name_key("Noor O'Sullivan-Håkansson"),
    )
    db.add_all([nora, theirs])
    db.flush()

    def found(typed: str) -> list[str]:
        return [x.id for x in filter_options.search_customers(db, typed, actor=who)]

    for typed in ("sullivan", "O'Sullivan", "o sull", "hakansson", "HÅKAN", "noor o'sullivan"):
        assert str(nora.id) in found(typed), typed
        assert str(theirs.id) not in found(typed), typed
    for typed in ("ullivan", "kansson", "sullivan noor", "h"):
        assert str(nora.id) not in found(typed), typed
    # Who the typed text names exactly comes first: a name that starts so, then one holding it.
    starts = Customer(tenant_id=who.tenant_id, name="Sullivan Berg", name_key="sullivan berg")
    db.add(starts)
    db.flush()
    assert found("sullivan")[:2] == [str(starts.id), str(nora.id)]


def test_a_customer_is_found_by_the_end_of_their_number_typed_any_way(db):
    """360 View's finder takes a phone number as a lead has it: with or without the country code
    or trunk zero, spaced or dashed, or only its last digits; not fewer than six of them."""
    from db.models import Customer
    from sessionlens import customers

    who = actor(db)
    c = db.scalars(
        select(Customer)
        .where(Customer.tenant_id == who.tenant_id, Customer.phone.like("+49 151 %"))
        .limit(1)
    ).one()
    local = c.phone.removeprefix("+49 151 ")
    for typed in (
        c.phone,
        f"0151 {local}",
        f"0151-{local[:3]}-{local[3:]}",
        local,
        f"+49151{local}",
    ):
        assert str(c.id) in [x.id for x in filter_options.search_customers(db, typed, actor=who)], (
            typed
        )
    assert str(c.id) not in [
        x.id for x in filter_options.search_customers(db, local[-5:], actor=who)
    ]
    assert str(c.id) not in [
        x.id for x in filter_options.search_customers(db, c.phone, actor=actor(db, 1))
    ]
    customers.update_contact(
        db, actor=who, customer_id=c.id, fields={"phone": "+1 (555) 010-9988"}, now=NOW
    )
    assert str(c.id) in [
        x.id for x in filter_options.search_customers(db, "555 0109988", actor=who)
    ]
    if not c.whatsapp:  # a number of the past finds them no more (unless it is their WhatsApp)
        assert str(c.id) not in [
            x.id for x in filter_options.search_customers(db, local, actor=who)
        ]


def test_two_customers_of_one_name_and_email_are_offered_apart(db):
    """One person reaching out from two channels can have two profiles with the same name and
    email; 360 View's finder, the Users filter and the import's customer picker list both, and
    a user must be able to tell which is which."""
    from db.models import Customer
    from sessionlens.customers import customer_name_key

    who = actor(db)
    twins = [
        Customer(
            tenant_id=who.tenant_id,
            name="Zelda Quist",
            name_key=customer_name_key("Zelda Quist"),
            email="zq@example.com",
        )
        for _ in range(2)
    ]
    db.add_all(twins)
    db.flush()
    found = filter_options.search_customers(db, "zelda q", actor=who)
    assert sorted(c.id for c in found) == sorted(str(t.id) for t in twins)
    assert len({c.label for c in found}) == 2
    assert all(c.label.startswith("Zelda Quist · zq@example.com") for c in found)
    picked = filter_options.customers_by_id(db, (twins[0].id,), actor=who)
    assert [c.label for c in picked] == [f"Zelda Quist · zq@example.com · #{twins[0].id}"]


def test_countries_list_those_in_use(db):
    codes = {c.id for c in filter_options.countries(db, actor=actor(db))}
    assert {"GB", "SE", "US"} <= codes


def test_an_imported_call_goes_to_the_agent_that_takes_calls(db):
    """The import dialog's AI agent starts at the agent of the tenant's newest call; a tenant
    with no calls has none to suggest, and another tenant's calls do not count."""
    from db.models import Agent
    from sessionlens.channels import VOICE_CHANNELS

    who = actor(db)
    newest = db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id, ChatSession.channel.in_(VOICE_CHANNELS))
        .order_by(ChatSession.started_at.desc())
    ).first()
    assert filter_options.voice_agent(db, actor=who) == str(newest.agent_id)
    assert db.get(Agent, newest.agent_id).name == "Echo (Voice)"  # the demo's voice agent
    # the newest call taken by another agent changes the suggestion
    other = db.scalar(
        select(Agent.id).where(Agent.tenant_id == who.tenant_id, Agent.id != newest.agent_id)
    )
    newest.agent_id = other
    db.flush()
    assert filter_options.voice_agent(db, actor=who) == str(other)
    # no calls in the tenant: nothing to suggest, whatever other tenants have
    db.execute(
        ChatSession.__table__.update()
        .where(ChatSession.tenant_id == who.tenant_id, ChatSession.channel.in_(VOICE_CHANNELS))
        .values(channel="web")
    )
    assert filter_options.voice_agent(db, actor=who) is None
    assert filter_options.voice_agent(db, actor=actor(db, 1)) is not None


# --- the URL form -------------------------------------------------------------------------------


def test_url_round_trip_keeps_every_filter():
    flt = SessionFilter(
        agent_ids=(1, 2),
        channels=("web", "sip"),
        responsible=Responsible.HUMAN,
        human_agent_ids=(5,),
        customer_ids=(9,),
        statuses=("open",),
        countries=("SE",),
        ip="81.2.69.142",
        started_from=dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC),
        finished_to=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        last_message_from=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        messages_op=Compare.GE,
        messages_count=5,
        has_attachments=True,
    )
    assert filter_query.parse(filter_query.encode(flt, BERLIN), BERLIN) == flt
    assert filter_query.active_labels(flt) == [
        "Agents",
        "Channel",
        "Responsible",
        "Human Agent",
        "Users",
        "Statuses",
        "Country",
        "IP",
        "Start time",
        "Finish time",
        "Last message time",
        "Messages",
        "Has Attachments",
    ]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"ip": "999.1.1.1"}, "IP filter: '999.1.1.1' is not a valid IP address"),
        (
            {"start_from": "2026-03-02T00:00", "start_to": "2026-03-01T00:00"},
            "Start time filter: the range ends before it starts",
        ),
        (
            {"last_from": "yesterday"},
            "Last message time filter: 'yesterday' is not a date and time",
        ),
        ({"msg_op": "ge", "msg_n": "many"}, "'many' is not a whole number"),
        ({"msg_n": "3"}, "Messages filter: pick a comparison for the count '3'"),
        ({"msg_op": "ge"}, "Messages filter: enter the count to compare with"),
        ({"msg_op": "zz", "msg_n": "3"}, "Messages filter: pick a comparison, not 'zz'"),
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"agent": "x1"}, "Agents filter: 'x1' is not an id"),
        ({"responsible": "robot"}, "neither 'human' nor 'ai'"),
    ],
)
def test_bad_url_values_are_named(params, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace("?", r"\?")):
        filter_query.parse(params, BERLIN)


def test_dates_are_read_in_tenant_time_across_daylight_saving():
    # Berlin switches to summer time at 2026-03-29 02:00 local (01:00 UTC).
    flt = filter_query.parse(
        {"start_from": "2026-03-29T00:00", "start_to": "2026-03-30T00:00"}, BERLIN
    )
    assert flt.started_from == dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)
    assert flt.started_to == dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC)  # a 23-hour day
    ny = filter_query.parse(
        {"start_from": "2026-11-01T00:00", "start_to": "2026-11-02T00:00"}, "America/New_York"
    )
    assert ny.started_to - ny.started_from == dt.timedelta(hours=25)


def test_date_bounds_start_inclusive_end_exclusive(db):
    who = actor(db)
    cs = db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.id)
        .limit(1)
    ).one()
    at = cs.started_at
    assert cs.id in _ids(
        db, who, SessionFilter(started_from=at, started_to=at + dt.timedelta(seconds=1))
    )
    assert cs.id not in _ids(
        db, who, SessionFilter(started_from=at - dt.timedelta(hours=1), started_to=at)
    )


def test_customer_search_is_case_insensitive_and_matches_exact_email(db):
    who = actor(db)
    from db.models import Customer

    c = db.scalars(
        select(Customer)
        .where(Customer.tenant_id == who.tenant_id, Customer.email.is_not(None))
        .limit(1)
    ).one()
    upper = filter_options.search_customers(db, c.name[:4].upper(), actor=who)
    assert str(c.id) in [
        x.id for x in filter_options.search_customers(db, c.name, actor=who, limit=200)
    ]
    assert upper and all(x.label.lower().startswith(c.name[:4].lower()) for x in upper)
    by_email = filter_options.search_customers(db, c.email, actor=who)
    assert by_email[0].id == str(c.id)
