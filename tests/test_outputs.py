"""The output accumulator both executors share (execution/outputs.py), message by message."""

import re

from jupyter_nbchat.execution.outputs import CellOutputs


def msg(msg_type, **content):
    return {"header": {"msg_type": msg_type}, "parent_header": {}, "metadata": {}, "content": content}


def text_of(outputs):
    return [o.get("text") for o in outputs]


def test_carriage_returns_fold_like_a_terminal_across_chunks():
    out = CellOutputs()
    for chunk in ["10%|#", "\r", "50%|#####", "\r100%|##########", "\n", "done\r\n", "abcdef\rXY\n", "tail\r"]:
        out.stream("stdout", chunk)
    out.stream("stdout", "T")
    assert text_of(out.outputs()) == ["100%|##########\ndone\nXYcdef\nTail"]


def test_consecutive_streams_join_and_names_alternate():
    out = CellOutputs()
    for name, text in [("stdout", "a\n"), ("stdout", "b\n"), ("stderr", "oops\n"), ("stdout", "c\n")]:
        out.handle(msg("stream", name=name, text=text))
    assert [(o["name"], o["text"]) for o in out.outputs()] == [("stdout", "a\nb\n"), ("stderr", "oops\n"), ("stdout", "c\n")]


def test_the_bound_keeps_head_and_tail_of_the_whole_cell():
    out = CellOutputs(max_chars=1_000)
    for i in range(10_000):
        out.stream("stdout", f"line {i}\n")
    (only,) = text_of(out.outputs())
    dropped = int(re.search(r"\[… ([\d,]+) characters of output truncated …\]", only).group(1).replace(",", ""))
    assert only.startswith("line 0\nline 1\n") and only.endswith("line 9999\n")
    assert dropped + len(only) - len(f"\n[… {dropped:,} characters of output truncated …]\n") == sum(
        len(f"line {i}\n") for i in range(10_000)
    )
    # stdout and stderr taking turns share the bound: later outputs get what is left.
    out = CellOutputs(max_chars=1_000)
    for _ in range(200):
        out.stream("stdout", "o" * 50 + "\n")
        out.stream("stderr", "e" * 50 + "\n")
    kept = sum(len(t.replace("\n", "")) for t in text_of(out.outputs()) if "truncated" not in t)
    assert kept <= 1_000


def test_clear_output_wait_and_display_ids_as_nbclient_does():
    out = CellOutputs()
    out.handle(msg("execute_input", execution_count=3, code=""))
    out.handle(msg("stream", name="stdout", text="old\n"))
    out.handle(msg("clear_output", wait=True))
    assert text_of(out.outputs()) == ["old\n"]  # cleared only when the next output comes
    out.handle(msg("display_data", data={"text/plain": "a"}, metadata={}, transient={"display_id": "d"}))
    out.handle(msg("display_data", data={"text/plain": "b"}, metadata={}, transient={"display_id": "d"}))
    out.handle(msg("update_display_data", data={"text/plain": "c"}, metadata={}, transient={"display_id": "d"}))
    out.handle(msg("execute_result", data={"text/plain": "42"}, metadata={}, execution_count=3))
    outputs = out.outputs()
    assert [o["output_type"] for o in outputs] == ["display_data", "display_data", "execute_result"]
    assert [o["data"]["text/plain"] for o in outputs] == ["c", "c", "42"]
    assert out.execution_count == 3 and outputs[2]["execution_count"] == 3
    out.handle(msg("clear_output", wait=False))
    assert out.outputs() == []


def test_every_change_is_announced_and_snapshots_are_fresh():
    changes = []
    out = CellOutputs(on_change=lambda: changes.append(1))
    out.stream("stdout", "a")
    first = out.outputs()
    out.stream("stdout", "b")
    assert first == [{"output_type": "stream", "name": "stdout", "text": "a"}]
    assert len(changes) == 2


def test_a_snapshot_may_show_less_than_is_kept():
    out = CellOutputs(max_chars=1_000)
    for i in range(100):
        out.stream("stdout", f"l{i:03d}\n")
    assert text_of(out.outputs(stream_chars=20)) == ["l000\nl001\n\n[… 480 characters of output truncated …]\nl098\nl099\n"]
    assert len(text_of(out.outputs())[0]) == 500  # all of it is kept
