"""The Human Agents workspace in the domain: the queue, atomic accept (threads and processes, on
SQLite and Postgres), assign, only the assignee replies, notes, resolve; the waiting count."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import AuditEvent, ChatSession, Message, User
from sessionlens import handover, human_agents, identity, sessions
from sessionlens.errors import PermissionDenied, RuleViolation
from sessionlens.filters import SessionFilter
from sessionlens.kinds import AuthorKind, Mode, Role, SystemEvent
from tests.helpers import actor
from tests.test_races import committed  # noqa: F401 - the fixture: a committed demo database

NOW = dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC)


def _handed_over(db: Session, who) -> int:  # type: ignore[no-untyped-def]
    sid = db.scalar(
        select(ChatSession.id)
        .where(
            ChatSession.tenant_id == who.tenant_id,
            ChatSession.mode == Mode.AI,
            ChatSession.finished_at.is_(None),
        )
        .limit(1)
    )
    handover.hand_over(db, actor=who, session_id=sid, now=NOW)
    return sid


def _operator(db: Session, n: int = 0):  # type: ignore[no-untyped-def]
    users = db.scalars(
        select(User).where(User.role == Role.OPERATOR, User.is_human_agent).order_by(User.id)
    ).all()
    return identity.actor_for(users[n])


def test_a_handed_over_session_waits_then_one_operator_accepts_and_replies(db):
    boss = actor(db)
    sid = _handed_over(db, boss)
    before = human_agents.waiting(db, actor=boss)
    card = next(
        c for c in human_agents.conversations(db, actor=boss, show="unassigned") if c.id == sid
    )
    assert card.assignee is None and card.agent
    grace, tobias = _operator(db, 0), _operator(db, 1)
    human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
    assert human_agents.waiting(db, actor=boss) == before - 1
    assert [c.id for c in human_agents.conversations(db, actor=grace, show="mine")].count(sid) == 1
    with pytest.raises(RuleViolation, match=f"{grace.name} already took this conversation"):
        human_agents.accept(db, actor=tobias, session_id=sid, now=NOW)
    with pytest.raises(PermissionDenied, match="Only the assigned human agent can reply"):
        human_agents.reply(db, actor=tobias, session_id=sid, text="Hi", now=NOW)
    mid = human_agents.reply(
        db, actor=grace, session_id=sid, text="Hi, I am Grace.\nHow can I help?", now=NOW
    )
    reply = db.get_one(Message, mid)
    assert (reply.author_kind, reply.delivery_status, reply.author_user_id) == (
        AuthorKind.HUMAN,
        "queued",
        grace.user_id,
    )
    human_agents.note(db, actor=tobias, session_id=sid, text="VIP customer", now=NOW)
    markers = db.scalars(
        select(Message).where(
            Message.session_id == sid, Message.system_event == SystemEvent.ASSIGNED
        )
    ).all()
    assert [m.event_data for m in markers] == [{"name": grace.name}]


def test_a_conversation_without_a_customer_is_anonymous_as_in_the_sessions_table(db):
    """The Sessions table calls a session without a customer "Anonymous"; the Human Agents list
    called the same conversation "Unknown"."""
    from components.grid import rows_frame  # the table's rows as the grid gets them

    boss = actor(db)
    sid = _handed_over(db, boss)
    db.execute(update(ChatSession).where(ChatSession.id == sid).values(customer_id=None))
    card = next(c for c in human_agents.conversations(db, actor=boss) if c.id == sid)
    page = sessions.list_page(db, SessionFilter(), actor=boss, limit=10_000)
    row = next(r for r in page.rows if r.id == sid)
    assert card.customer == "Anonymous" == rows_frame([row], "UTC").iloc[0]["user"]


def test_assign_to_a_teammate_writes_the_specs_marker(db):
    boss = actor(db)
    sid = _handed_over(db, boss)
    grace = _operator(db, 0)
    human_agents.assign(db, actor=boss, session_id=sid, user_id=grace.user_id, now=NOW)
    m = db.scalars(
        select(Message).where(
            Message.session_id == sid, Message.system_event == SystemEvent.ASSIGNED
        )
    ).one()
    assert m.event_data == {"name": grace.name, "by": boss.name}
    assert human_agents.holder(db, actor=boss, session_id=sid) == grace.user_id


def test_resolve_finishes_with_the_marker_and_only_when_assigned(db):
    boss = actor(db)
    sid = _handed_over(db, boss)
    grace, tobias = _operator(db, 0), _operator(db, 1)
    with pytest.raises(RuleViolation, match="Accept or assign"):
        human_agents.resolve(db, actor=grace, session_id=sid, now=NOW)
    human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
    with pytest.raises(PermissionDenied):
        human_agents.resolve(db, actor=tobias, session_id=sid, now=NOW)
    human_agents.resolve(db, actor=grace, session_id=sid, now=NOW)
    cs = db.get_one(ChatSession, sid)
    assert cs.finished_at == NOW and cs.status == "resolved"
    last = db.scalars(
        select(Message).where(Message.session_id == sid).order_by(Message.seq.desc())
    ).first()
    assert last.system_event == SystemEvent.RESOLVED and last.event_data == {"name": grace.name}
    assert sid not in {c.id for c in human_agents.conversations(db, actor=grace)}
    with pytest.raises(RuleViolation, match="not waiting"):
        human_agents.reply(db, actor=grace, session_id=sid, text="late", now=NOW)


def test_viewers_read_the_queue_but_cannot_work_it(db):
    boss = actor(db)
    sid = _handed_over(db, boss)
    viewer = actor(db, 0, Role.VIEWER)
    assert sid in {c.id for c in human_agents.conversations(db, actor=viewer)}
    with pytest.raises(PermissionDenied, match="work conversations"):
        human_agents.accept(db, actor=viewer, session_id=sid, now=NOW)


def test_an_operator_is_online_while_their_workspace_checks_in(db):
    """ "Nobody picks up a transferred session": make sure human agents are online in the Human
    Agents workspace. A page of theirs checks in; they are online for 90 seconds after, in their
    tenant only; a viewer's page never makes anyone online; a check-in writes at most every 30
    seconds, however many tabs poll."""
    grace, kenji = _operator(db, 0), _operator(db, 1)

    def names(at=NOW, who=grace):
        return [m.name for m in human_agents.online(db, actor=who, now=at)]

    assert names() == []
    human_agents.check_in(db, actor=grace, now=NOW)
    assert names() == [grace.name]
    assert names(NOW + human_agents.ONLINE) == [grace.name]
    assert names(NOW + human_agents.ONLINE + dt.timedelta(seconds=1)) == []
    assert names(who=actor(db, 1)) == []  # another tenant's view of who is online
    human_agents.check_in(db, actor=kenji, now=NOW)
    assert names() == sorted([grace.name, kenji.name])

    seen = select(User.workspace_seen_at).where(User.id == grace.user_id)
    human_agents.check_in(db, actor=grace, now=NOW + dt.timedelta(seconds=10))
    assert db.scalar(seen) == NOW  # no write ten seconds later
    human_agents.check_in(db, actor=grace, now=NOW + dt.timedelta(seconds=31))
    assert db.scalar(seen) == NOW + dt.timedelta(seconds=31)

    with pytest.raises(PermissionDenied, match="work conversations"):
        human_agents.check_in(db, actor=actor(db, 0, Role.VIEWER), now=NOW)
    db.execute(update(User).where(User.id == kenji.user_id).values(is_active=False))
    assert names(NOW + dt.timedelta(seconds=31)) == [grace.name]  # a deactivated one is not


def test_a_deactivated_operators_conversations_go_back_to_the_queue(db):
    """Only the assignee replies, so a deactivated operator's open conversations would wait for
    nobody: they go back to the queue (Unassigned), each saying why in its System Logs, and the
    admin is told how many. A finished one stays as it was."""
    from db.models import SessionLog
    from sessionlens import admin

    boss = actor(db)
    grace = _operator(db, 0)
    sid = _handed_over(db, boss)
    human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
    unassigned = {c.id for c in human_agents.conversations(db, actor=boss, show="unassigned")}
    assert sid not in unassigned
    returned = admin.set_active(db, actor=boss, user_id=grace.user_id, active=False, now=NOW)
    assert returned >= 1
    assert sid in {c.id for c in human_agents.conversations(db, actor=boss, show="unassigned")}
    assert human_agents.holder(db, actor=boss, session_id=sid) is None
    lines = db.scalars(select(SessionLog.text).where(SessionLog.session_id == sid)).all()
    assert f"Back in the Human Agents queue: {grace.name} was deactivated by {boss.name}" in lines
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user_deactivated")).one()
    assert event.details == {"conversations_returned": returned}
    assert admin.set_active(db, actor=boss, user_id=grace.user_id, active=True, now=NOW) == 0
    assert human_agents.holder(db, actor=boss, session_id=sid) is None  # not given back


def accept_one(url: str, session_id: int, user_id: int, start_at: float) -> str:
    eng = make_engine(url)
    try:
        with Session(eng) as db:
            who = identity.actor_for(db.get_one(User, user_id))
        time.sleep(max(0.0, start_at - time.time()))
        try:
            with Session(eng) as db, db.begin():
                human_agents.accept(db, actor=who, session_id=session_id, now=NOW)
            return "took"
        except RuleViolation as err:
            return str(err)
    finally:
        eng.dispose()


def _race_setup(eng: Engine) -> tuple[int, list[int]]:
    with Session(eng) as db, db.begin():
        boss = identity.default_actor(db)
        sid = _handed_over(db, boss)
        ops = db.scalars(
            select(User.id)
            .where(User.is_human_agent, User.tenant_id == boss.tenant_id)
            .order_by(User.id)
        ).all()
    return sid, list(ops)


def _one_winner(eng: Engine, sid: int, outcomes: list[str], n: int) -> None:
    assert len(outcomes) == n and outcomes.count("took") == 1, outcomes
    assert all(o == "took" or o.endswith("already took this conversation") for o in outcomes)
    with Session(eng) as db:
        markers = db.scalar(
            select(func.count()).where(
                Message.session_id == sid, Message.system_event == SystemEvent.ASSIGNED
            )
        )
        audits = db.scalar(
            select(func.count()).where(
                AuditEvent.action == "conversation_accepted", AuditEvent.target_id == str(sid)
            )
        )
    assert (markers, audits) == (1, 1)


@pytest.mark.parametrize("n", [2, 10])
def test_simultaneous_accepts_in_threads_make_one_assignee(committed, n):  # noqa: F811
    sid, ops = _race_setup(committed)
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 1.0
    outcomes: list[str] = []
    threads = [
        threading.Thread(
            target=lambda u=ops[i % len(ops)]: outcomes.append(accept_one(url, sid, u, start_at))
        )
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _one_winner(committed, sid, outcomes, n)


def test_simultaneous_accepts_in_processes_make_one_assignee(committed):  # noqa: F811
    sid, ops = _race_setup(committed)
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 4.0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        outcomes = pool.starmap(
            accept_one, [(url, sid, ops[i % len(ops)], start_at) for i in range(4)], chunksize=1
        )
    _one_winner(committed, sid, outcomes, 4)


def test_the_handoff_record_follows_the_conversation_and_sums_up_per_day(db):
    from db.models import Handoff
    from sessionlens import handoffs

    boss = actor(db)
    sid = db.scalar(
        select(ChatSession.id)
        .where(
            ChatSession.tenant_id == boss.tenant_id,
            ChatSession.mode == Mode.AI,
            ChatSession.finished_at.is_(None),
        )
        .limit(1)
    )
    handover.hand_over(
        db,
        actor=boss,
        session_id=sid,
        now=NOW,
        trigger="customer_request",
        reason="Asked for a person",
    )
    grace, tobias = _operator(db, 0), _operator(db, 1)
    human_agents.accept(db, actor=grace, session_id=sid, now=NOW + dt.timedelta(minutes=2))
    human_agents.reply(
        db, actor=grace, session_id=sid, text="Hi", now=NOW + dt.timedelta(minutes=5)
    )
    human_agents.reply(
        db, actor=grace, session_id=sid, text="Again", now=NOW + dt.timedelta(minutes=9)
    )
    human_agents.assign(
        db, actor=boss, session_id=sid, user_id=tobias.user_id, now=NOW + dt.timedelta(minutes=10)
    )
    human_agents.resolve(db, actor=tobias, session_id=sid, now=NOW + dt.timedelta(minutes=12))
    h = db.scalars(select(Handoff).where(Handoff.session_id == sid)).one()
    assert (h.trigger, h.reason, h.accepted_by, h.reassignments, h.resolved_by) == (
        "customer_request",
        "Asked for a person",
        grace.user_id,
        1,
        tobias.user_id,
    )
    assert (h.accepted_at - h.requested_at) == dt.timedelta(minutes=2)
    assert (h.first_reply_at - h.requested_at) == dt.timedelta(minutes=5)
    rows = handoffs.figures(
        db, actor=boss, since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(days=1)
    )
    mine = [r for r in rows if r.handovers == 1 and r.accept_p50_s == 120.0]
    assert (
        mine
        and mine[0].reply_p50_s == 300.0
        and mine[0].resolved == 1
        and mine[0].reassignments == 1
    )
    viewer = actor(db, 0, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        handoffs.figures(db, actor=viewer, since=NOW, until=NOW)


def test_the_totals_per_ai_agent_are_over_all_its_handovers_not_over_its_days(db):
    """The Handoffs page's table per AI agent: counts add up over the days, and the median and
    90th percentile are taken over every handover of the agent (a median of daily medians would
    weigh a quiet day like a busy one)."""
    import statistics

    from db.models import Agent, Handoff
    from sessionlens import handoffs

    boss = actor(db)
    found = db.execute(
        select(Handoff.requested_at).where(Handoff.tenant_id == boss.tenant_id)
    ).scalars()
    stamps = sorted(found)
    assert stamps, "the demo data has handovers"
    since, until = stamps[0], stamps[-1] + dt.timedelta(seconds=1)
    days = handoffs.figures(db, actor=boss, since=since, until=until)
    totals = handoffs.totals(db, actor=boss, since=since, until=until)
    assert sorted(t.agent for t in totals) == sorted({d.agent for d in days})
    for t in totals:
        mine = [d for d in days if d.agent == t.agent]
        for field in ("handovers", "accepted", "resolved", "reassignments"):
            assert getattr(t, field) == sum(getattr(d, field) for d in mine), field
        waits = [
            (h.accepted_at - h.requested_at).total_seconds()
            for h in db.scalars(
                select(Handoff)
                .join(Agent, Agent.id == Handoff.agent_id)
                .where(Handoff.tenant_id == boss.tenant_id, Agent.name == t.agent)
            )
            if h.accepted_at
        ]
        assert t.accept_p50_s == pytest.approx(statistics.median(waits))
        assert t.accept_p90_s is not None and t.accept_p90_s >= t.accept_p50_s
    busy = max(totals, key=lambda t: t.handovers)
    assert busy.handovers > max(d.handovers for d in days if d.agent == busy.agent)
    viewer = actor(db, 0, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        handoffs.totals(db, actor=viewer, since=since, until=until)


def test_copilot_is_switched_by_the_assignee_and_never_back_to_the_ai(db):
    boss = actor(db)
    sid = _handed_over(db, boss)
    grace, tobias = _operator(db, 0), _operator(db, 1)
    human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
    with pytest.raises(PermissionDenied, match="Only the assigned human agent can switch Copilot"):
        human_agents.set_copilot(db, actor=tobias, session_id=sid, on=True, now=NOW)
    human_agents.set_copilot(db, actor=grace, session_id=sid, on=True, now=NOW)
    assert db.get_one(ChatSession, sid).mode == Mode.COPILOT
    assert sid in {
        c.id for c in human_agents.conversations(db, actor=grace)
    }  # still waiting on a person
    human_agents.set_copilot(db, actor=grace, session_id=sid, on=False, now=NOW)
    assert db.get_one(ChatSession, sid).mode == Mode.HUMAN
