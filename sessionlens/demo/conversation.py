"""One demo session's messages, attachments and trace calls, with the derived counters the
domain's writers keep (message_count, last_message_at, has_attachments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sessionlens.demo import content as C
from sessionlens.demo.context import DemoContext, Tenant
from sessionlens.kinds import AuthorKind, LogKind
from sessionlens.messages import COUNTED_KINDS


class Messages:
    """Builds one session's messages and its derived counters."""

    def __init__(self, ctx: DemoContext, t: Tenant, sid: int, started: dt.datetime, active: bool):
        self.ctx, self.t, self.sid, self.active = ctx, t, sid, active
        self.started = self.last = started
        self.last_counted: dt.datetime | None = None
        self.counted = 0
        self.seq = 0
        self.has_attachments = False
        self.stopped = False
        self.history: list[str] = []
        self.rows: list[tuple[Any, ...]] = []

    def _next_time(self) -> dt.datetime | None:
        at = self.last + dt.timedelta(seconds=self.ctx.rng.randint(4, 90))
        if at > self.ctx.now:
            self.stopped = True  # a live session has not got further yet
            return None
        self.last = at
        return at

    def system(self, event: str, data: dict[str, Any], at: dt.datetime | None = None) -> None:
        when = at or (self.last if self.seq == 0 else self._next_time())
        if when is None:
            return
        self._add(AuthorKind.SYSTEM, None, "", when, event=event, data=data)

    def say(
        self,
        kind: str,
        text: str,
        *,
        user: int | None = None,
        template: bool = False,
        delivery: bool = False,
        react: bool = False,
        quick: bool = False,
        trace: bool = False,
        agent_name: str = "",
        attachment: tuple[str, str, bytes] | None = None,
        reaction: str | None = None,
        status: str | None = None,
    ) -> None:
        if self.stopped:
            return
        at = self._next_time()
        if at is None:
            return
        rng = self.ctx.rng
        at_d = note = None
        if delivery or status:
            status = status or rng.choices(["delivered", "read", "failed"], [45, 52, 3])[0]
            at_d = at + dt.timedelta(seconds=rng.randint(1, 40))
            note = rng.choice(C.DELIVERY_FAILED if status == "failed" else C.DELIVERY_OK)
        if react and reaction is None and kind == AuthorKind.AI:
            reaction = rng.choices([None, "up", "down"], [80, 15, 5])[0]
        mid = self._add(
            kind,
            user,
            text,
            at,
            reaction=reaction,
            status=status,
            at_d=at_d,
            note=note,
            quick=rng.choice(C.QUICK_REPLIES) if quick else None,
            template=template,
        )
        if attachment:
            self.attach(mid, attachment)
        if trace:
            self._trace(mid, at, agent_name, text)
        self.history.append(f"{kind}: {text}")

    def attach(self, mid: int | None, att: tuple[str, str, bytes], recording: bool = False) -> None:
        name, mime, data = att
        self.ctx.w.add(
            "attachments",
            (
                self.ctx.next_id("attachments"),
                self.t.id,
                self.sid,
                mid,
                recording,
                name,
                mime,
                len(data),
                data,
                self.last,
            ),
        )
        self.has_attachments = self.has_attachments or not recording

    def _trace(self, mid: int, at: dt.datetime, agent_name: str, reply: str) -> None:
        prompt = C.PROMPT.format(
            agent=agent_name,
            tenant=self.t.name,
            params="(see session)",
            history="\n".join(self.history[-8:]),
            date=at.date().isoformat(),
        )
        self.ctx.w.add(
            "session_logs",
            (
                self.ctx.next_id("session_logs"),
                self.t.id,
                self.sid,
                LogKind.TRACE,
                at - dt.timedelta(seconds=2),
                "INFO",
                "",
                "main_agent",
                prompt,
                "reply",
                reply,
                mid,
            ),
        )

    def _add(
        self,
        kind: str,
        user: int | None,
        text: str,
        at: dt.datetime,
        *,
        reaction: str | None = None,
        status: str | None = None,
        at_d: dt.datetime | None = None,
        note: str | None = None,
        quick: list[str] | None = None,
        template: bool = False,
        event: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        mid = self.ctx.next_id("messages")
        self.seq += 1
        self.rows.append(
            (
                mid,
                self.t.id,
                self.sid,
                self.seq,
                kind,
                user,
                text,
                at,
                reaction,
                status,
                at_d,
                note,
                quick,
                template,
                event,
                data,
            )
        )
        if kind in COUNTED_KINDS:
            self.counted += 1
            self.last_counted = at
        return mid

    def flush(self) -> None:
        for row in self.rows:
            self.ctx.w.add("messages", row)


def handoff(
    ctx: DemoContext,
    t: Tenant,
    sid: int,
    agent_id: int,
    requested: dt.datetime,
    *,
    accepted: tuple[dt.datetime, int] | None = None,
    first_reply: dt.datetime | None = None,
    resolved: tuple[dt.datetime, int] | None = None,
) -> None:
    """The handover behind a session's "Transfer to human agent" marker, as the Handoffs page
    reads it: when it was asked for, who accepted it and when (``accepted``: time, user), the
    first human reply, the resolution. Its trigger and reason follow from the session id, so the
    demo's random draws, and with them every other session, stay as they were."""
    triggers = list(C.HANDOFF_REASONS)
    trigger = triggers[sid % len(triggers)]
    reasons = C.HANDOFF_REASONS[trigger]
    ctx.w.add(
        "handoffs",
        (
            ctx.next_id("handoffs"),
            t.id,
            sid,
            agent_id,
            trigger,
            reasons[sid // len(triggers) % len(reasons)],
            requested,
            accepted[0] if accepted else None,
            accepted[1] if accepted else None,
            first_reply,
            1 if accepted and sid % 7 == 0 else 0,
            resolved[0] if resolved else None,
            resolved[1] if resolved else None,
        ),
    )
