"""Streamlit's message queue, as ``components/fragment_finish.py`` leaves it when a run starts
before the last run's messages went to the browser (the browser test of this is
``test_a_click_answered_as_the_live_poll_runs_leaves_nothing_of_the_chat_before``)."""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

from components import fragment_finish

Status = ForwardMsg.ScriptFinishedStatus
DETAIL, POLL = "detail-fragment", "poll-fragment"


def _queue_after_a_detail_run() -> ForwardMsgQueue:
    """A queue holding a run of the detail fragment, unsent: an element, then its finish."""
    queue = ForwardMsgQueue()
    element = ForwardMsg()
    element.metadata.delta_path[:] = [0, 1, 0]
    element.delta.fragment_id = DETAIL
    element.delta.new_element.markdown.body = "200 messages more"
    queue.enqueue(element)
    finished = ForwardMsg()
    finished.metadata.run.fragment_ids.append(DETAIL)
    finished.script_finished = Status.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    queue.enqueue(finished)
    return queue


def _statuses(queue: ForwardMsgQueue) -> list[str]:
    return [
        Status.Name(m.script_finished) if m.WhichOneof("type") == "script_finished" else "delta"
        for m in queue.flush()
    ]


def test_another_fragments_run_leaves_a_whole_run_finished():
    """The poll's run starts: the detail run's element and its "finished" both reach the
    browser, which then removes what that run no longer draws."""
    fragment_finish.install()
    queue = _queue_after_a_detail_run()
    queue.clear(retain_lifecycle_msgs=True, fragment_ids_this_run=[POLL])
    assert _statuses(queue) == ["delta", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]


def test_a_run_whose_elements_are_dropped_still_stops_early():
    """The same fragment runs again: its earlier run's elements are dropped from the queue, and
    its "finished" says it stopped early, as Streamlit has it (else the browser would remove
    elements the new run has not sent yet)."""
    fragment_finish.install()
    queue = _queue_after_a_detail_run()
    queue.clear(retain_lifecycle_msgs=True, fragment_ids_this_run=[DETAIL])
    assert _statuses(queue) == ["FINISHED_EARLY_FOR_RERUN"]


def test_a_whole_page_run_clears_as_before():
    fragment_finish.install()
    fragment_finish.install()  # once per process, however often it is called
    queue = _queue_after_a_detail_run()
    queue.clear(retain_lifecycle_msgs=True)
    assert _statuses(queue) == ["FINISHED_EARLY_FOR_RERUN"]
