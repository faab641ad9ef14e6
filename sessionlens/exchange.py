"""The one JSON format of a session, version 1: what the HTTP API accepts, what import reads and
what export writes. ``docs/schema/session-v1.json`` is generated from these models
(``python -m sessionlens.exchange``) and a test keeps the two equal.

Every error is reported with the JSON path of the value at fault, e.g.
``$.messages[3].sent_at: not a datetime``; nothing is written until the whole document is valid.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from db.models import Customer
from sessionlens import statuses, strict
from sessionlens.customers import phone_problem
from sessionlens.errors import BadInput
from sessionlens.kinds import Channel, Mode
from sessionlens.strict import limit

FORMAT: Final = "sessionlens.session/v1"
MAX_TEXT = 1_000_000  # characters of one message, log line or trace part
MAX_INLINE_BYTES = 10 * 1024 * 1024  # an attachment inline as base64, decoded
MAX_MESSAGES = 10_000  # in one document or batch


def _iso_text(v: Any) -> Any:
    """Times are ISO 8601 text with a zone; a number is not taken for a Unix time."""
    if not isinstance(v, str | dt.datetime):
        raise ValueError("not a datetime")
    return v


#: How far ahead of the server's clock a time may lie (a sender's clock a little fast is fine;
#: a message dated next year would head the table by last message for a year).
MAX_AHEAD = dt.timedelta(days=1)


def _not_far_ahead(v: dt.datetime) -> dt.datetime:
    limit = dt.datetime.now(dt.UTC) + MAX_AHEAD
    if v > limit:
        raise ValueError(
            f"more than a day ahead of the server's clock (now {limit - MAX_AHEAD:%Y-%m-%dT%H:%M}Z)"
        )
    return v


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_not_far_ahead)]


def _refusing(problem: Callable[[str], str | None]) -> AfterValidator:
    """A validator from one of the console's own rules (``strict.email_problem``,
    ``customers.phone_problem``...): what the forms refuse is refused here in the same words."""

    def check(v: str) -> str:
        if (why := problem(v)) is not None:
            raise ValueError(why)
        return v

    return AfterValidator(check)


#: One line of plain text: no line break, tab or control character (a right-to-left override
#: turns the rest of a table's cell around), as the console's own forms refuse.
_ONE_LINE = _refusing(strict.control_problem)


def _ip(v: str) -> str:
    """An IP address, kept in its one written form (``strict.ip_or_none``), which the IP filter
    looks for."""
    if (ip := strict.ip_or_none(v)) is None:
        raise ValueError(f"{strict.quote(v)} is not an IP address")
    return ip


def _tidy(v: str) -> str:
    """A name as the console's forms keep one: spaces at its ends dropped and runs of them made
    one ("Aria (Support) " was a second agent that looked like the first)."""
    tidy = " ".join(v.split())
    if not tidy:
        raise ValueError("blank")
    return tidy


#: A session's status: one line, no comma (``statuses.problem``); one of the workspace's, which
#: the writes check against its list.
Status = Annotated[str, Field(min_length=1, max_length=64), _ONE_LINE, _refusing(statuses.problem)]
#: An id of the sender's (a session's, a customer's): one line, kept exactly as sent.
Id = Annotated[str, _ONE_LINE]
#: A name the console shows: one line, tidied.
Name = Annotated[str, _ONE_LINE, AfterValidator(_tidy)]
#: A quick-reply button's label, drawn as a chip under the message.
QuickReply = Annotated[str, Field(min_length=1, max_length=200), _ONE_LINE, AfterValidator(_tidy)]

#: The longest key of a session's parameters or results (the panel shows each as a label).
MAX_KEY = 200


def _keys(v: dict[str, Any]) -> dict[str, Any]:
    """Parameters and results are shown as ``key: value`` lines: a key is a label, not empty,
    one line (the panel showed ``---: 1`` for an empty one)."""
    for key in v:
        if not key.strip():
            raise ValueError("a key is empty")
        if len(key) > MAX_KEY:
            raise ValueError(f"the key {strict.quote(key)} is longer than {MAX_KEY} characters")
        if (problem := strict.control_problem(key)) is not None:
            raise ValueError(f"the key {strict.quote(key)} {problem}")
    return v


Fields = Annotated[dict[str, Any], AfterValidator(_keys)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class CustomerIn(_Strict):
    """The customer: matched by ``external_id`` within the tenant, else created."""

    # The customer's columns' lengths (its external id is shorter than a session's).
    external_id: Id | None = Field(None, min_length=1, max_length=limit(Customer.external_id))
    name: Name | None = Field(None, max_length=limit(Customer.name))
    email: Annotated[str, _refusing(strict.email_problem)] | None = Field(
        None, max_length=limit(Customer.email)
    )
    phone: Annotated[str, _refusing(phone_problem)] | None = Field(
        None, max_length=limit(Customer.phone)
    )


class DeliveryIn(_Strict):
    status: Literal["sent", "delivered", "read", "failed"]
    at: Moment | None = None
    note: str | None = Field(None, max_length=500)


class AttachmentIn(_Strict):
    # one line: a right-to-left override turns "invoice_\u202efdp.exe" into "invoice_exe.pdf"
    file_name: Name = Field(min_length=1, max_length=255)
    mime_type: str = Field("application/octet-stream", max_length=100)
    content_base64: str = Field(description="The file, base64; at most 10 MB decoded")

    @field_validator("content_base64")
    @classmethod
    def _decodes(cls, v: str) -> str:
        if len(v) > MAX_INLINE_BYTES * 4 // 3 + 4:
            raise ValueError(f"larger than {MAX_INLINE_BYTES // (1024 * 1024)} MB")
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        return v

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class MessageIn(_Strict):
    """One message. ``external_id`` makes appending it idempotent."""

    external_id: str | None = Field(None, min_length=1, max_length=200)
    author: Literal["customer", "ai", "human", "copilot_draft", "private_note", "system"] = Field(
        description="Who wrote it; system messages are markers (see event)"
    )
    author_name: Name | None = Field(None, max_length=200)
    text: str = Field("", max_length=MAX_TEXT)
    sent_at: Moment
    delivery: DeliveryIn | None = None
    reaction: Literal["up", "down"] | None = None
    quick_replies: list[QuickReply] | None = Field(None, max_length=20)
    template: StrictBool = False
    event: Literal["started", "transfer", "assigned", "resolved"] | None = Field(
        None, description="For system messages: the marker"
    )
    event_data: dict[str, Any] | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)

    @field_validator("delivery", "reaction")
    @classmethod
    def _sent_to_the_customer(cls, value: Any, info: ValidationInfo) -> Any:
        """A delivery status and a reaction belong to what the customer was sent."""
        if value is not None and info.data.get("author") not in ("ai", "human"):
            raise ValueError("only a message sent to the customer (author ai or human) has one")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> MessageIn:
        """A message someone wrote has text or a file (an empty one drew a bubble holding only
        its time); a system marker says what happened by its ``event``."""
        if self.author != "system" and not self.text.strip() and not self.attachments:
            raise ValueError("no text and no attachment: a message needs one or the other")
        return self


class LogIn(_Strict):
    """A System Logs line (``kind`` "system") or a trace call (``kind`` "trace")."""

    kind: Literal["system", "trace"]
    at: Moment
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    text: str = Field("", max_length=MAX_TEXT)
    agent_name: str | None = Field(None, max_length=200)
    prompt: str | None = Field(None, max_length=MAX_TEXT)
    action: str | None = Field(None, max_length=200)
    action_input: str | None = Field(None, max_length=MAX_TEXT)
    message_external_id: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _says_something(self) -> LogIn:
        """A line of System Logs has its text, and a trace call its text (the raw form) or one
        of its parts: an empty one was an empty entry in the drawer."""
        parts = (self.text, self.prompt, self.action, self.action_input)
        if self.kind == "system" and not self.text.strip():
            raise ValueError("a System Logs line needs its text")
        if self.kind == "trace" and not any(p and p.strip() for p in parts):
            raise ValueError("a trace call needs its text, prompt, action or action input")
        return self


class SessionIn(_Strict):
    """A session with its messages in order and its logs."""

    format: Literal["sessionlens.session/v1"] = FORMAT
    external_id: Id = Field(min_length=1, max_length=200)
    agent: Name = Field(min_length=1, max_length=200, description="The AI agent's name")
    channel: Channel
    customer: CustomerIn | None = None
    started_at: Moment
    finished_at: Moment | None = None
    status: Status = "open"
    mode: Mode = Mode.AI
    parameters: Fields = Field(default_factory=dict)
    results: Fields = Field(default_factory=dict)
    ip: Annotated[str, AfterValidator(_ip)] | None = Field(None, max_length=45)
    messages: list[MessageIn] = Field(default_factory=list, max_length=MAX_MESSAGES)
    logs: list[LogIn] = Field(default_factory=list, max_length=MAX_MESSAGES)

    @field_validator("finished_at")
    @classmethod
    def _not_before_start(cls, value: dt.datetime | None, info: ValidationInfo) -> Any:
        started = info.data.get("started_at")
        if value is not None and started is not None:
            check_finish(value, started)
        return value


def check_finish(finished: dt.datetime, started: dt.datetime) -> None:
    """A session cannot end before it began (the table would show a finish time before its
    start, and the Handoffs page a negative duration)."""
    if finished < started:
        raise ValueError(
            f"before the session's start, {started.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        )


class MessagesIn(_Strict):
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)


class LogsIn(_Strict):
    logs: list[LogIn] = Field(min_length=1, max_length=MAX_MESSAGES)


class FieldsIn(_Strict):
    """Set the parameters and/or results (each replaces the whole object), or the status."""

    parameters: Fields | None = None
    results: Fields | None = None
    status: Status | None = None

    @model_validator(mode="after")
    def _something(self) -> FieldsIn:
        if self.parameters is None and self.results is None and self.status is None:
            raise ValueError("nothing to change: give parameters, results or status")
        return self


class FinishIn(_Strict):
    finished_at: Moment | None = None
    status: Status | None = None


class AssigneeIn(_Strict):
    """Intercom: who the conversation is assigned to now (anyone but the bot is a human)."""

    is_bot: StrictBool


class DeliveryReportIn(_Strict):
    """What the messaging provider said about a human agent's reply."""

    status: Literal["sent", "delivered", "read", "failed"]
    note: str | None = Field(None, max_length=500)
    at: Moment | None = None


class HandoverIn(_Strict):
    trigger: Literal["automatic", "customer_request"]
    reason: str = Field("", max_length=500)


_SHORT = {
    "datetime_parsing": "not a datetime",
    "datetime_type": "not a datetime",
    "datetime_from_date_parsing": "not a datetime",
    "timezone_aware": "a datetime needs its time zone (e.g. 2026-11-26T09:30:00Z)",
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "not a string",
    "bool_type": "not true or false",
    "bool_parsing": "not true or false",
    "dict_type": "not an object",
    "list_type": "not a list",
    "model_type": "not an object",
    "model_attributes_type": "not an object",
}


def json_path(loc: tuple[int | str, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems(err: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[str]:
    """Each error as ``<JSON path>: <what is wrong>``, in document order."""
    out = []
    for e in err.errors(include_url=False):
        loc = prefix + tuple(p for p in e["loc"] if not str(p).startswith("function-"))
        kind = e["type"]
        msg = _SHORT.get(kind)
        if msg is None and kind in ("literal_error", "enum"):
            msg = "not one of " + str(e.get("ctx", {}).get("expected", "the allowed values"))
        # An optional field of an Annotated type (``Name | None``) reports a text's length with
        # the errors of a list ("too_long"): the input says which it was.
        text = kind.startswith("string_") or isinstance(e.get("input"), str)
        if msg is None and kind in ("too_long", "string_too_long"):
            what = "longer than {:,} characters" if text else "more than {:,} items"
            msg = what.format(e["ctx"]["max_length"])
        if (
            msg is None
            and kind in ("too_short", "string_too_short")
            and e["ctx"]["min_length"] == 1
        ):
            msg = "empty" if text else "empty; at least one is needed"
        if msg is None:
            msg = str(e["msg"]).removeprefix("Value error, ")
        out.append(f"{json_path(loc)}: {msg}")
    return out


class Invalid(BadInput):
    """A document that does not follow the format; ``errors`` names every value at fault."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(errors[0] + more if errors else "not a valid document")


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, prefix: tuple[int | str, ...] = ()) -> M:
    """``data`` (decoded JSON) as ``model``, or Invalid naming every value at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise Invalid(problems(err, prefix)) from None


def loads(raw: bytes | str) -> Any:
    """Decoded JSON, or Invalid saying where it stops being JSON. Python's decoder also takes
    NaN, Infinity and numbers too large for a float (1e999 becomes infinity), which no JSON
    column holds (Postgres refuses them; an export would write them as invalid JSON): refused,
    as is nesting deeper than the decoder's recursion allows (a 500 before)."""
    try:
        data = json.loads(raw, parse_constant=_not_a_number, parse_float=_finite)
    except json.JSONDecodeError as err:
        raise Invalid(
            [f"$: not JSON ({err.msg} at line {err.lineno}, column {err.colno})"]
        ) from None
    except UnicodeDecodeError:
        raise Invalid(["$: not UTF-8 text"]) from None
    except ValueError as err:  # an integer of more than 4,300 digits
        raise Invalid([f"$: not JSON ({err})"]) from None
    except RecursionError:
        raise Invalid([_TOO_DEEP]) from None
    # A NUL character: Postgres stores none in text or JSON (a 500 there), SQLite would store
    # it; refused on both. JSON can only spell it \u0000, so most documents skip the walk.
    spelt = (b"\\u0000" in raw) if isinstance(raw, bytes) else ("\\u0000" in raw)
    if spelt:
        try:
            found = list(itertools.islice(_nul_paths(data, "$"), 5))
        except RecursionError:
            raise Invalid([_TOO_DEEP]) from None
        if found:
            raise Invalid([f"{path}: holds a NUL character (\\u0000)" for path in found])
    return data


_TOO_DEEP = "$: nested too deeply (arrays or objects inside each other)"


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    """The JSON paths of the strings (keys included) in ``value`` that hold a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield f"{path}.{key!r}"
            yield from _nul_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{i}]")


def _not_a_number(word: str) -> float:
    raise Invalid([f"$: not JSON ({word} is not a JSON number)"])


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Invalid([f"$: the number {text[:40]} is too large"])
    return value


def schema() -> dict[str, Any]:
    """The JSON Schema of a session document (docs/schema/session-v1.json)."""
    s = SessionIn.model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = "https://sessionlens.example/schema/session-v1.json"
    s["title"] = "Sessionlens session, format v1"
    return s


if __name__ == "__main__":  # python -m sessionlens.exchange > docs/schema/session-v1.json
    print(json.dumps(schema(), indent=2, ensure_ascii=False))
