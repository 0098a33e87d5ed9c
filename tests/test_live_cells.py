"""Live cells: a generated cell enters the notebook when it starts and its outputs arrive as
it prints (`cell_started`, `cell_outputs`, then `cell` with the same id), folded, bounded and
replayable; a stopped turn still ends its running cell."""

import asyncio

import nbformat
import pytest

from jupyter_nbchat.testing.plugin import of_type

TICKS = "import time\nfor i in range(1, 6):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.3)"


def code_events(events, cell_id):
    """The events about one code cell, in order, as (type, event)."""
    mine = []
    for e in events:
        if e["type"] in ("cell_started", "cell") and e["cell"]["id"] == cell_id:
            mine.append(e)
        elif e["type"] == "cell_outputs" and e["cell_id"] == cell_id:
            mine.append(e)
    return mine


def stream_text(outputs, name="stdout"):
    return "".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == name)


async def run_one_cell(nbchat, claude_standin, notebook_path, code, **extra):
    """A turn that runs `code` once: its events, and its code cell as it ended."""
    claude_standin.script(claude_standin.code(code), claude_standin.text("Done."))
    events = await nbchat.ask(notebook_path, "Run it", **extra)
    return events, [e for e in of_type(events, "cell") if e["role"] == "code"][0]["cell"]


def assert_live(events):
    """A `cell_outputs` with `tick 1` came before the final `cell` of the same id; none after."""
    (started,) = of_type(events, "cell_started")
    cell_id = started["cell"]["id"]
    assert started["cell"]["outputs"] == [] and started["cell"]["execution_count"] is None
    assert started["cell"]["metadata"]["nbchat"]["role"] == "code"
    mine = code_events(events, cell_id)
    assert mine[0] is started and mine[-1]["type"] == "cell"
    snapshots = [e for e in mine if e["type"] == "cell_outputs"]
    assert snapshots and "tick 1" in stream_text(snapshots[0]["outputs"])
    assert "tick 5" not in stream_text(snapshots[0]["outputs"])  # it came while the cell ran
    final = mine[-1]["cell"]
    assert stream_text(final["outputs"]) == "".join(f"tick {i}\n" for i in range(1, 6))
    assert isinstance(final["execution_count"], int)
    # Each snapshot is the whole list so far: its text grows, never restarts.
    texts = [stream_text(s["outputs"]) for s in snapshots]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:]))


async def test_outputs_arrive_while_the_cell_runs(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(TICKS), claude_standin.text("Five ticks."))
    events = await nbchat.ask(notebook_path, "Tick")
    assert_live(events)
    types = [e["type"] for e in events]
    assert types.index("cell_running") < types.index("cell_started")


async def test_a_progress_bar_ends_as_one_line(nbchat, claude_standin, notebook_path):
    code = (
        "from tqdm import tqdm\nimport sys, time\n"
        "for _ in tqdm(range(40), mininterval=0, file=sys.stdout):\n    time.sleep(0.005)\n"
        "for i in range(5):\n    print(f'\\r{i} of 4', end='', flush=True)\nprint()"
    )
    _, final = await run_one_cell(nbchat, claude_standin, notebook_path, code)
    text = stream_text(final["outputs"])
    assert "\r" not in text
    bar, count = text.splitlines()
    assert "100%" in bar and "40/40" in bar
    assert count == "4 of 4"


async def test_clear_output_and_display_updates_are_applied(nbchat, claude_standin, notebook_path):
    code = (
        "from IPython.display import clear_output, display\n"
        "for i in range(3):\n    clear_output(wait=True)\n    print(f'step {i}')\n"
        "handle = display('first', display_id=True)\nhandle.update('second')"
    )
    _, final = await run_one_cell(nbchat, claude_standin, notebook_path, code)
    assert [o["output_type"] for o in final["outputs"]] == ["stream", "display_data"]
    assert final["outputs"][0]["text"] == "step 2\n"
    assert final["outputs"][1]["data"]["text/plain"] == "'second'"


class TestBoundedOutput:
    @pytest.fixture
    def nbchat_config(self):
        return {"max_output_chars": 10_000}

    async def test_megabytes_of_prints_end_truncated_with_a_note(self, nbchat, claude_standin, notebook_path, jp_root_dir):
        code = "for i in range(200_000):\n    print(f'{i:>8} ' + 'x' * 90)"  # 20 MB
        events, final = await run_one_cell(nbchat, claude_standin, notebook_path, code, write="server")
        assert events[-1]["status"] == "done"
        text = stream_text(final["outputs"])
        assert len(text) < 10_100
        assert "characters of output truncated" in text
        assert text.startswith("       0 x") and text.endswith(f"  199999 {'x' * 90}\n")
        # A snapshot may also hold the line being printed.
        assert all(len(stream_text(e["outputs"])) < 10_200 for e in of_type(events, "cell_outputs"))
        # What Claude read and what the notebook keeps are bounded too.
        assert len(str(claude_standin.requests[1]["body"]["messages"][-1])) < 50_000
        nb = nbformat.read(jp_root_dir / notebook_path, as_version=4)
        assert len(nb.cells[1].outputs[0]["text"]) < 10_100


async def test_a_reconnect_mid_cell_gets_the_start_and_only_the_latest_outputs(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(TICKS), claude_standin.text("Five ticks."))
    turn_id = await nbchat.start_turn(notebook_path, "Tick")
    seen = []
    ws_events = await nbchat.events(turn_id, until="cell_started")
    seen += ws_events
    started = ws_events[-1]
    while True:  # follow until the cell has printed three ticks
        more = await nbchat.events(turn_id, after=seen[-1]["seq"], limit=1)
        seen += more
        if more[-1]["type"] == "cell_outputs" and "tick 3" in stream_text(more[-1]["outputs"]):
            break
    # A page reloaded now asks for everything since just before the cell started.
    replay = await nbchat.events(turn_id, after=started["seq"] - 1, limit=2)
    assert [e["type"] for e in replay] == ["cell_started", "cell_outputs"]
    assert replay[0]["cell"]["id"] == started["cell"]["id"]
    assert "tick 3" in stream_text(replay[1]["outputs"])  # everything printed so far, at once
    rest = await nbchat.events(turn_id, after=replay[1]["seq"])
    assert rest[-1]["type"] == "turn_finished"
    final = [e for e in of_type(rest, "cell") if e["role"] == "code"][0]
    assert final["cell"]["id"] == started["cell"]["id"]


async def test_stop_mid_cell_ends_the_cell_with_its_outputs_and_the_interrupt(nbchat, claude_standin, notebook_path):
    code = "import time\nfor i in range(600):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)"
    claude_standin.script(claude_standin.code(code))
    turn_id = await nbchat.start_turn(notebook_path, "Tick forever")
    seen = await nbchat.events(turn_id, until="cell_outputs")
    await asyncio.sleep(0.3)
    await nbchat.post("turns", turn_id, "cancel")
    events = await nbchat.events(turn_id)
    (started,) = of_type(events, "cell_started")
    mine = code_events(events, started["cell"]["id"])
    assert mine[-1]["type"] == "cell"  # the cell ended: nothing after it, nothing left running
    final = mine[-1]["cell"]
    assert "tick 0\n" in stream_text(final["outputs"])
    assert final["outputs"][-1]["output_type"] == "error" and final["outputs"][-1]["ename"] == "KeyboardInterrupt"
    assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "cancelled"
    record = events[-1]["record"]["turns"][-1]
    assert record["status"] == "cancelled"
    assert started["cell"]["id"] in [c["id"] for c in record["cells"]]
    assert seen[-1]["type"] == "cell_outputs"


async def test_a_fixed_cell_starts_in_the_place_of_the_failed_one(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("value = 1 / 0"),
        claude_standin.code("value = 1 / 1"),
        claude_standin.text("It is 1."),
    )
    events = await nbchat.ask(notebook_path, "Divide")
    failed, fixed = of_type(events, "cell_started")
    assert failed["replaces"] is None and fixed["replaces"] == failed["cell"]["id"]
    ended = [e for e in of_type(events, "cell") if e["role"] == "code"]
    assert [e["cell"]["id"] for e in ended] == [failed["cell"]["id"], fixed["cell"]["id"]]
    assert events.index(ended[0]) < events.index(fixed)


async def test_live_snapshots_show_the_start_and_end_of_a_long_stream(nbchat, claude_standin, notebook_path):
    """While a cell runs, its snapshots show at most LIVE_STREAM_CHARS per stream; its final
    cell keeps everything up to max_output_chars."""
    from jupyter_nbchat.turn import LIVE_STREAM_CHARS

    code = f"import time\nprint('x' * {3 * LIVE_STREAM_CHARS})\ntime.sleep(0.6)\nprint('end')"
    events, final = await run_one_cell(nbchat, claude_standin, notebook_path, code)
    snapshots = [stream_text(e["outputs"]) for e in of_type(events, "cell_outputs")]
    assert snapshots and all(len(t) < LIVE_STREAM_CHARS + 100 for t in snapshots)
    assert "characters of output truncated" in snapshots[0]
    assert stream_text(final["outputs"]) == "x" * (3 * LIVE_STREAM_CHARS) + "\nend\n"
