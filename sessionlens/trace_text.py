"""The raw text form of a trace: LLM calls separated by ``#######`` lines. Pure functions.

A call reads::

    Agent: main_agent
    Prompt:
    ...the full prompt, any number of lines...
    Generation:
    Action: reply
    Action Input: ...

A separator is a line that is exactly seven ``#`` (surrounding spaces allowed); longer runs of ``#``
or ``#######`` inside a line are prompt text. A call that does not have this shape is kept whole as
raw text: the view shows it raw, it is never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = re.compile(r"^[ \t]*#######[ \t]*$", re.MULTILINE)
_AGENT = re.compile(r"\A\s*Agent:[ \t]*(?P<agent>[^\n]*)\n", re.IGNORECASE)
_PROMPT = re.compile(r"^Prompt:[ \t]*\n?", re.IGNORECASE | re.MULTILINE)
_GENERATION = re.compile(r"^Generation:[ \t]*$", re.IGNORECASE | re.MULTILINE)
_ACTION = re.compile(r"^Action:[ \t]*(?P<action>[^\n]*)$", re.IGNORECASE | re.MULTILINE)
_INPUT = re.compile(r"^Action Input:[ \t]*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ParsedCall:
    agent_name: str | None
    prompt: str | None
    action: str | None
    action_input: str | None
    raw: str | None = None  # set when the call could not be parsed

    @property
    def parsed(self) -> bool:
        return self.raw is None


def split_calls(text: str) -> list[str]:
    """The calls of a raw trace, without empty ones."""
    return [part.strip("\n") for part in SEPARATOR.split(text or "") if part.strip()]


def parse_call(chunk: str) -> ParsedCall:
    agent = _AGENT.match(chunk)
    gen = _GENERATION.search(chunk)
    if not agent or not gen:
        return ParsedCall(None, None, None, None, raw=chunk)
    head, tail = chunk[agent.end() : gen.start()], chunk[gen.end() :]
    prompt_at = _PROMPT.search(head)
    prompt = head[prompt_at.end() :] if prompt_at else head
    action = _ACTION.search(tail)
    if not action:
        return ParsedCall(None, None, None, None, raw=chunk)
    after = tail[action.end() :]
    given = _INPUT.search(after)
    action_input = after[given.end() :].strip("\n") if given else ""
    return ParsedCall(
        agent.group("agent").strip() or None,
        prompt.strip("\n"),
        action.group("action").strip(),
        action_input,
    )


def parse_trace(text: str) -> list[ParsedCall]:
    """Every call of a raw trace, parsed where it has the expected shape, raw where not."""
    return [parse_call(chunk) for chunk in split_calls(text)]


def format_call(call: ParsedCall) -> str:
    """A call back in the raw text form (what Copy to clipboard copies)."""
    if not call.parsed:
        return call.raw or ""
    return (
        f"Agent: {call.agent_name or ''}\nPrompt:\n{call.prompt or ''}\nGeneration:\n"
        f"Action: {call.action or ''}\nAction Input: {call.action_input or ''}"
    )


def find_all(text: str, term: str) -> list[int]:
    """Start offsets of every case-insensitive, literal occurrence of ``term`` in ``text``."""
    if not term:
        return []
    return [m.start() for m in re.finditer(re.escape(term), text, re.IGNORECASE)]
