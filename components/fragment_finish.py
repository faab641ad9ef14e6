"""A fragment's run keeps its "finished" when the live poll's run starts right after it.

Streamlit 1.67 sends a run's messages to the browser from a queue. When a run starts, it clears
from that queue what has not been sent yet, keeping the messages of other fragments, and turns
every "fragment run finished" still in the queue into "finished early for a rerun"
(``forward_msg_queue._update_script_finished_message``). The browser removes the elements a run
did not draw again only for a run that finished, not for one that stopped early.

So when the live poll's run (``components/live.py``, every few seconds) starts within
milliseconds of the end of the detail area's run (a row clicked, "Show earlier" pressed), before
the server has sent that run's last messages, the detail run's new elements arrive whole, but
its "finished" arrives as "stopped early": the elements it no longer draws stay on the page. A
"Show earlier" button that had been pressed stayed under 200 messages drawn twice; the previous
session's "Show earlier" could stay under the next session's chat. Seen in two of nine full
runs of the browser tests with the poll's 3 s, and in about one click of three with a 0.3 s poll
(``tests/test_browser.py``; docs/engineering-notes.md, "A click's leftovers").

The fix keeps a fragment run's "finished" as it was when the clear dropped none of that run's
own messages (they all still reach the browser, in order, before it), and leaves Streamlit's
behaviour as it is otherwise (a finished run whose elements were dropped is still told apart
from a whole one). Installed once per server process by ``app.py``.
"""

from __future__ import annotations

from typing import Any

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import forward_msg_queue

_FRAGMENT_DONE = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def whole_fragment_runs(queue: list[ForwardMsg], clearing_for: list[str]) -> list[ForwardMsg]:
    """The "fragment run finished" messages in ``queue`` whose run loses none of its elements
    when a run of the fragments ``clearing_for`` clears the queue (a run's messages come
    before its "finished")."""
    whole: list[ForwardMsg] = []
    dropped = False
    for msg in queue:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.fragment_id in clearing_for:
            dropped = True
        elif kind == "script_finished":
            if not dropped and msg.script_finished == _FRAGMENT_DONE:
                whole.append(msg)
            dropped = False
    return whole


def install() -> None:
    """Wrap ``ForwardMsgQueue.clear`` (once per process)."""
    queue_class: Any = forward_msg_queue.ForwardMsgQueue
    if getattr(queue_class.clear, "_sessionlens", False):
        return
    clear = queue_class.clear

    def clear_keeping_whole_runs(
        self: Any, retain_lifecycle_msgs: bool = False, fragment_ids_this_run: Any = None
    ) -> None:
        whole = (
            whole_fragment_runs(self._queue, fragment_ids_this_run)
            if retain_lifecycle_msgs and fragment_ids_this_run
            else []
        )
        clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
        for msg in whole:  # the same objects, still in the queue
            msg.script_finished = _FRAGMENT_DONE

    clear_keeping_whole_runs._sessionlens = True  # type: ignore[attr-defined]
    queue_class.clear = clear_keeping_whole_runs
