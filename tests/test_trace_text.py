"""Parsing the raw text form of traces."""

from sessionlens.trace_text import find_all, format_call, parse_trace, split_calls

CALL = """Agent: main_agent
Prompt:
You are Aria.
## Chat history
customer: Hi
Generation:
Action: reply
Action Input: Hello! How can I help?"""


def test_normal_trace_with_two_calls():
    form = CALL.replace("main_agent", "form_agent").replace("reply", "record_result")
    calls = parse_trace(f"{CALL}\n#######\n{form}\n")
    assert [c.agent_name for c in calls] == ["main_agent", "form_agent"]
    assert calls[0].prompt == "You are Aria.\n## Chat history\ncustomer: Hi"
    assert (calls[1].action, calls[1].action_input) == ("record_result", "Hello! How can I help?")
    assert format_call(calls[0]) == CALL


def test_empty_and_separator_only():
    assert parse_trace("") == []
    assert parse_trace("#######\n   \n#######") == []


def test_malformed_call_is_kept_raw_never_dropped():
    calls = parse_trace(f"{CALL}\n#######\nthe model timed out\n#######\n{CALL}")
    assert len(calls) == 3
    assert calls[1].raw == "the model timed out" and not calls[1].parsed
    assert calls[0].parsed and calls[2].parsed
    assert parse_trace("Agent: x\nPrompt:\nno generation here")[0].raw is not None


def test_hashes_inside_a_prompt_are_not_separators():
    prompt_with_hashes = CALL.replace("## Chat history", "######## banner ########\n#######x")
    calls = parse_trace(prompt_with_hashes)
    assert len(calls) == 1 and "######## banner ########" in calls[0].prompt
    assert len(split_calls(f"{CALL}\n  #######  \n{CALL}")) == 2


def test_unicode_survives_and_search_is_literal_and_case_insensitive():
    call = parse_trace(CALL.replace("Hi", "Grüße, 你好 — ça va? (1+1)*2"))[0]
    assert "你好" in call.prompt
    text = "A.b a.B (x) a*b A.B"
    assert find_all(text, "a.b") == [0, 4, 16]
    assert find_all(text, "(x)") == [8]
    assert find_all(text, "") == []
