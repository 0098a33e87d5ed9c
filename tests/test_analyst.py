"""Multi-turn context, self-correction, silent failures, prompt caching and cost."""

import json

import nbformat
import pytest

from jupyter_nbchat.record import source_sha256
from jupyter_nbchat.testing.plugin import of_type


def code_cells(events):
    return [e for e in of_type(events, "cell") if e["role"] == "code"]


def strip_cache(messages):
    return json.loads(json.dumps(messages).replace(', "cache_control": {"type": "ephemeral"}', ""))


async def test_follow_up_sees_history_and_live_variables(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        claude_standin.code("import pandas as pd\ndf = pd.DataFrame({'gender': ['m', 'f', 'f'], 'size': [42, 38, 39]})\ndf.shape"),
        claude_standin.text("Cell [1] shows 3 rows."),
        claude_standin.code("df.groupby('gender').size()"),
        claude_standin.text("Two women, one man."),
    )
    await nbchat.ask("a.ipynb", "Load the shoes", write="server")
    await nbchat.ask("a.ipynb", "How many per gender?", write="server")
    follow_up = claude_standin.requests[2]["body"]
    history = follow_up["messages"][:-1]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"][-1]["text"] == "Question: Load the shoes"
    assert "df = pd.DataFrame" in history[1]["content"][0]["text"]
    assert "(3, 2)" in history[1]["content"][0]["text"]  # the real output of the earlier cell
    assert "Cell [1] shows 3 rows." in history[1]["content"][0]["text"]
    assert "**Answer**" not in history[1]["content"][0]["text"]  # the answer's own text
    current = follow_up["messages"][-1]["content"]
    variables = next(b["text"] for b in current if b["text"].startswith("Live variables"))
    assert '"df": DataFrame, shape (3, 2), columns ["gender", "size"]' in variables
    # The follow-up's cell reused df and ran in the same kernel.
    nb = nbformat.read(jp_root_dir / "a.ipynb", as_version=4)
    assert "f    2" in nb.cells[-2].outputs[0]["data"]["text/plain"]


async def test_cells_sent_by_the_browser_are_the_context(nbchat, claude_standin, notebook_path):
    person_cell = {"cell_type": "code", "source": "threshold = 40", "outputs": [], "execution_count": 4, "metadata": {}}
    claude_standin.script(claude_standin.text("noted"))
    await nbchat.ask(notebook_path, "Use my threshold", cells=[person_cell])
    blocks = claude_standin.requests[0]["body"]["messages"][-1]["content"]
    assert blocks[0]["text"].startswith("Cells the person has in the notebook:")
    assert "threshold = 40" in blocks[0]["text"] and "Cell [4]" in blocks[0]["text"]


async def test_prefix_is_identical_across_turns_and_marked_for_caching(nbchat, claude_standin):
    for i in range(3):
        claude_standin.script(claude_standin.code(f"v{i} = {i}"), claude_standin.text(f"Set v{i}."))
        await nbchat.ask("c.ipynb", f"Set v{i}", write="server")
    turn2, turn3 = claude_standin.requests[2]["body"], claude_standin.requests[4]["body"]
    assert turn2["system"] == turn3["system"]
    assert turn2["system"][-1]["cache_control"] == {"type": "ephemeral"}
    # Turn 3 starts with exactly the messages turn 2 sent as history.
    assert strip_cache(turn3["messages"][:2]) == strip_cache(turn2["messages"][:2])
    assert turn2["messages"][1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert turn3["messages"][3]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    breakpoints = json.dumps(turn3).count('"cache_control"')
    assert breakpoints <= 4  # the API's limit


async def test_a_fixed_cell_replaces_the_failed_one(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        claude_standin.code("import pandas as pd\ndf = pd.DataFrame({'Gender': ['m', 'f']})\ndf['gender'].value_counts()"),
        claude_standin.code("import pandas as pd\ndf = pd.DataFrame({'Gender': ['m', 'f']})\ndf['Gender'].value_counts()"),
        claude_standin.text("Cell [2] shows one of each."),
    )
    events = await nbchat.ask("fix.ipynb", "Count genders", write="server")
    failed, fixed = code_cells(events)
    assert failed["cell"]["outputs"][-1]["ename"] == "KeyError"
    assert failed["replaces"] is None and fixed["replaces"] == failed["cell"]["id"]
    phases = [(p["phase"], p.get("attempt")) for p in of_type(events, "phase")]
    assert ("fixing", 1) in phases
    result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "KeyError" in result["content"] and "3 attempt(s) left" in result["content"]
    # The notebook keeps only cells that ran, in order: question, the fixed cell, answer.
    nb = nbformat.read(jp_root_dir / "fix.ipynb", as_version=4)
    assert [c.metadata["nbchat"]["role"] for c in nb.cells] == ["question", "code", "answer"]
    assert "df['Gender']" in nb.cells[1].source and nb.cells[1].outputs[0]["output_type"] == "execute_result"
    # The turn's record keeps the failed code, and the file keeps what the panel was sent.
    (turn,) = nb.metadata["nbchat"]["turns"]
    assert turn["replaced"] == [{"by": fixed["cell"]["id"], "source": failed["cell"]["source"]}]
    assert [c["role"] for c in turn["cells"]] == ["question", "code", "answer"]
    assert turn["cells"][1] == {"id": fixed["cell"]["id"], "role": "code", "sha256": source_sha256(nb.cells[1].source)}
    assert events[-1]["record"]["turns"] == [turn]


class TestFixCap:
    @pytest.fixture
    def nbchat_config(self):
        return {"max_fix_attempts": 2}

    async def test_fixes_are_capped_then_claude_must_explain(self, nbchat, claude_standin, jp_root_dir):
        claude_standin.script(
            claude_standin.code("raise KeyError('a')"),
            claude_standin.code("raise KeyError('b')"),
            claude_standin.code("raise KeyError('c')"),
            claude_standin.text("I could not complete it: the column does not exist."),
        )
        events = await nbchat.ask("cap.ipynb", "Try hard", write="server")
        cells = code_cells(events)
        assert len(cells) == 3
        assert cells[1]["replaces"] == cells[0]["cell"]["id"] and cells[2]["replaces"] == cells[1]["cell"]["id"]
        last = claude_standin.requests[-1]["body"]
        assert last["tool_choice"] == {"type": "none"}
        assert "Do not run more code" in last["messages"][-1]["content"][0]["content"]
        assert of_type(events, "answer")[0]["text"].startswith("I could not complete it")
        nb = nbformat.read(jp_root_dir / "cap.ipynb", as_version=4)
        assert [c.metadata["nbchat"]["role"] for c in nb.cells] == ["question", "code", "answer"]


@pytest.mark.parametrize(
    "code, phrase",
    [
        ("import pandas as pd\npd.DataFrame({'a': [1, 2]}).query('a > 5')", "empty (0 rows)"),
        ("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': [None, None]})", 'entirely NaN: b'),
        ("print('ERROR: No matching distribution found for notapackage')", "package installation failed"),
    ],
)
async def test_silent_failures_count_as_failures(nbchat, claude_standin, notebook_path, code, phrase):
    claude_standin.script(claude_standin.code(code), claude_standin.text("checked"))
    await nbchat.ask(notebook_path, "Check")
    result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and phrase in result["content"]


async def test_a_good_result_is_not_flagged(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import pandas as pd\npd.DataFrame({'a': [1, 2]})"), claude_standin.text("ok"))
    await nbchat.ask(notebook_path, "Show")
    result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is False and "The cell ran, but" not in result["content"]


async def test_environment_facts_come_from_the_kernel(nbchat, claude_standin, notebook_path):
    import sys

    claude_standin.script(claude_standin.text("hi"))
    await nbchat.ask(notebook_path, "hi")
    body = claude_standin.requests[0]["body"]
    where = next(b["text"] for b in body["messages"][-1]["content"] if b["text"].startswith("Where the code runs:"))
    assert f"Python {sys.version.split()[0]}" in where
    assert "notebook's own Jupyter kernel" in where and "at most 60 s" in where
    assert f"Python {sys.version.split()[0]}" not in body["system"][0]["text"]  # the same bytes every turn


async def test_cost_is_estimated_from_usage(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.text("hi", usage={"input_tokens": 1_000_000, "output_tokens": 100_000, "cache_read_input_tokens": 1_000_000, "cache_creation_input_tokens": 0}),
    )
    events = await nbchat.ask(notebook_path, "hi", model="claude-sonnet-4-5")
    usage = of_type(events, "usage")[-1]
    assert usage["cost_usd"] == pytest.approx(3.0 + 1.5 + 0.3)


async def test_without_question_answer_cells_the_chat_lives_in_metadata(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        # Cell [1] shows the 42 its answer quotes (every number of an answer is checked).
        claude_standin.code("total = 40 + 2\ntotal"), claude_standin.text("Cell [1] set total to 42."),
        claude_standin.code("print(total)"), claude_standin.text("It printed 42."),
    )
    first = await nbchat.ask("meta.ipynb", "Set total", write="server", question_answer_cells=False)
    assert [c["role"] for c in of_type(first, "cell")] == ["code"]
    await nbchat.ask("meta.ipynb", "Print it", write="server", question_answer_cells=False)
    nb = nbformat.read(jp_root_dir / "meta.ipynb", as_version=4)
    assert [c.cell_type for c in nb.cells] == ["code", "code"]
    assert [(t["question"], t["answer"]) for t in nb.metadata["nbchat"]["turns"]] == [
        ("Set total", "Cell [1] set total to 42."),
        ("Print it", "It printed 42."),
    ]
    # The follow-up's history came from the metadata records plus the tagged code cell.
    history = claude_standin.requests[2]["body"]["messages"]
    assert history[0]["content"][-1]["text"] == "Question: Set total"
    assert "total = 40 + 2" in history[1]["content"][0]["text"]
    assert "Cell [1] set total to 42." in history[1]["content"][0]["text"]

    # The cells turned back on: the turns kept in metadata still come first.
    claude_standin.script(claude_standin.text("Still 42."))
    await nbchat.ask("meta.ipynb", "Recap", write="server")
    recap = json.dumps(claude_standin.requests[4]["body"]["messages"])
    assert recap.index("Question: Set total") < recap.index("Question: Print it") < recap.index("Question: Recap")


def test_history_mixes_question_cells_and_metadata_records():
    """The setting toggled between turns: cell-kept and metadata-kept turns keep their order."""
    from jupyter_nbchat.llm.context import history_messages
    from jupyter_nbchat.models import NotebookCell, TurnRecord

    def cell(kind, text, turn_id=None, role=None):
        meta = {"nbchat": {"turn_id": turn_id, "role": role}} if turn_id else {}
        return NotebookCell(cell_type=kind, source=text, metadata=meta)

    cells = [
        cell("markdown", "**Question**", "t1", "question"),
        cell("code", "a = 1", "t1", "code"),
        cell("markdown", "**Answer**\n\na is 1", "t1", "answer"),
        cell("code", "b = a + 1", "t2", "code"),
        cell("code", "c = 3", "t4", "code"),
    ]
    cells[0].metadata["nbchat"]["text"] = "Set a"
    cells[2].metadata["nbchat"]["text"] = "a is 1"
    records = [
        # Every turn now has a record; one with question/answer cells describes those cells.
        TurnRecord(turn_id="t1", question="Set a", answer="a is 1", question_answer_cells=True),
        TurnRecord(turn_id="t2", question="Add one", answer="b is 2"),
        TurnRecord(turn_id="t3", question="What is b?", answer="2, no code needed"),
        # Its question, code and answer cells were deleted by the person: not history any more.
        TurnRecord(turn_id="t5", question="Deleted", answer="gone", question_answer_cells=True),
        TurnRecord(turn_id="t4", question="Set c", answer=None),
    ]
    messages, _ = history_messages(cells, records)
    questions = [m["content"][-1]["text"] for m in messages if m["role"] == "user"]
    assert questions == ["Question: Set a", "Question: Add one", "Question: What is b?", "Question: Set c"]
    answers = [m["content"][0]["text"] for m in messages if m["role"] == "assistant"]
    assert "a = 1" in answers[0] and "Answer:\na is 1" in answers[0] and "**Answer**" not in answers[0]
    assert len(answers) == 4 and "Deleted" not in json.dumps(messages)  # t1 once, t5 not at all
    assert "b = a + 1" in answers[1] and "b is 2" in answers[1]
    assert "(no cells ran)" in answers[2] and "2, no code needed" in answers[2]
    assert "c = 3" in answers[3] and "ended without an answer" in answers[3]
    # Without records, a turn with no question cell still appears (with its cells).
    bare, _ = history_messages(cells)
    assert len(bare) == 2 * 3


async def test_at_the_schema_level_live_dataframes_come_with_their_dtypes(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import pandas as pd\nprices = pd.DataFrame({'price': [1.5], 'n': [2]})"), claude_standin.text("Made."))
    first = await nbchat.ask(notebook_path, "Make it")
    cells = [e["cell"] for e in of_type(first, "cell")]
    for level, shown in (("headers", False), ("schema", True)):
        claude_standin.script(claude_standin.text("Known."))
        await nbchat.ask(notebook_path, "Types?", cells=cells, context_level=level)
        told = next(b["text"] for b in claude_standin.requests[-1]["body"]["messages"][-1]["content"] if "Live variables" in b["text"])
        assert ("float64" in told) is shown and ("int64" in told) is shown, (level, told)
