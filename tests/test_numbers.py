"""Every number in an answer is looked up in the outputs: the rules (llm/numbers.py) as fast
unit tests, then whole turns against the Claude stand-in and a real kernel."""

import nbformat
import pytest

from jupyter_nbchat import notebook
from jupyter_nbchat.llm.numbers import Source, answer_numbers, check, note
from jupyter_nbchat.record import fold_turn, read_record
from jupyter_nbchat.testing.plugin import of_type


def printed(count, text, code=""):
    return Source(count, code, [{"output_type": "stream", "name": "stdout", "text": text}])


def unverified(answer, sources, question=""):
    return [(u.text, u.reason, u.cell) for u in check(answer, sources, question).unverified]


# -- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "There are 1,306 rows.",  # thousands separator vs 1306.0
        "There are 1306 rows.",
        "About 1.3k rows.",  # suffix, rounded to its precision
        "About 1.3 thousand rows.",
        "Roughly 1\u202f306 rows.",  # narrow no-break space
        "The mean is 3.14.",  # rounded to the precision shown
        "The mean is 3.1416.",
        "Half of them: 50 %.",  # a percentage vs the fraction printed
        "Half of them: 50%.",
        "The share is 0.5.",
        "It grew 12.5 percent.",  # vs the percentage printed
        "It grew 0.125.",
        "The change was 3.2.",  # the sign is ignored: the output says -3.2
    ],
)
def test_formats_are_normalised(answer):
    sources = [printed(1, "rows    1306.0\nmean    3.14159\nshare   0.5\ngrowth  12.5%\nchange  -3.2\n")]
    assert unverified(answer, sources) == []
    assert check(answer, sources).checked == 1


@pytest.mark.parametrize(
    "answer, wrong",
    [
        ("There are 1,307 rows.", "1,307"),
        ("About 1.4k rows.", "1.4k"),
        ("The mean is 3.1415.", "3.1415"),  # more precision than the output shows
        ("The mean is 3.15.", "3.15"),
        ("A third of them: 33 %.", "33 %"),
        ("There are 5 columns.", "5"),  # small integers are numbers like any other
    ],
)
def test_numbers_the_outputs_do_not_show_are_found(answer, wrong):
    sources = [printed(1, "rows    1306.0\nmean    3.1416\nshare   0.5\n")]
    assert unverified(answer, sources) == [(wrong, "not_found", None)]


def test_numbers_longer_than_a_float_holds_are_compared_exactly():
    sources = [printed(1, "order 12345678901234567890 shipped\n")]
    assert unverified("Order 12345678901234567890 shipped.", sources) == []
    assert unverified("Order 12345678901234567891 shipped.", sources) == [("12345678901234567891", "not_found", None)]


def test_what_is_not_a_number_and_what_else_counts():
    answer = (
        "1. Cell [3] and In [4] ran; cells [5] and [6] too, then cell 7.\n"
        "2. Columns v2 and Q3 of `df2` were used with a threshold of 40 and seed 1234.\n"
    )
    assert [t.text for t in answer_numbers(answer)] == ["40", "1234"]
    # The question and the code are sources: a threshold the person gave, a seed in the code.
    sources = [Source(3, "df.sample(5, random_state=1234)", [])]
    assert unverified(answer, sources, "Rows above 40?") == []
    assert unverified(answer, sources) == [("40", "not_found", None)]


def test_html_tables_count_and_tracebacks_do_not():
    table = {
        "output_type": "execute_result",
        "execution_count": 2,
        "metadata": {},
        "data": {"text/html": "<table><tr><td>7&#8239;204</td><td>0.25</td></tr></table>", "text/plain": "…"},
    }
    error = {"output_type": "error", "ename": "KeyError", "evalue": "'x'", "traceback": ["line 87"]}
    sources = [Source(2, "", [table, error])]
    assert unverified("Cell [2] shows 7,204 rows, 25 % of them late.", sources) == []
    assert unverified("It failed at line 87.", sources) == [("87", "not_found", None)]


def test_a_number_must_be_in_the_cell_it_cites():
    sources = [printed(1, "42\n"), printed(2, "7\n")]
    assert unverified("Cell [1] shows 42.", sources) == []
    assert unverified("Cell [2] shows 42.", sources) == [("42", "not_in_cell", 2)]
    assert unverified("In Cell [2], after filtering, 42 rows remain.", sources) == [("42", "not_in_cell", 2)]
    assert unverified("42 rows remain (Cell [2]).", sources) == [("42", "not_in_cell", 2)]
    # The nearest citation before a number wins; a new sentence cites nothing.
    assert unverified("Cell [2] shows 7 and Cell [1] shows 42. Overall 42.", sources) == []
    assert unverified("Cell [9] shows 42.", sources) == [("42", "not_in_cell", 9)]


def test_offsets_occurrences_and_the_note():
    answer = "Cell [1] shows 42; Cell [2] shows 42 and 17."
    result = check(answer, [printed(1, "42\n"), printed(2, "7\n")])
    assert result.checked == 3
    assert [u.wire() for u in result.unverified] == [
        {"text": "42", "start": 34, "end": 36, "reason": "not_in_cell", "cell": 2, "occurrence": 1},
        {"text": "17", "start": 41, "end": 43, "reason": "not_in_cell", "cell": 2, "occurrence": 0},
    ]
    assert answer[34:36] == "42"
    assert note(result.unverified) == "*2 numbers in this answer were not found in the cells' outputs: 42, 17.*"
    assert note(result.unverified[1:]) == "*1 number in this answer was not found in the cells' outputs: 17.*"
    assert note([]) == ""


def test_the_record_counts_the_answers_numbers():
    events = [
        {"type": "turn_started", "question": "q", "question_answer_cells": True},
        {"type": "answer", "text": "17 and 4", "checked": 2, "unverified": [{"text": "17"}]},
    ]
    (turn,) = fold_turn(read_record({}), "t" * 32, events)["turns"]
    assert turn["numbers"] == {"checked": 2, "unverified": 1}
    unchecked = [events[0], {"type": "answer", "text": "17"}]
    assert fold_turn(read_record({}), "t" * 32, unchecked)["turns"][0]["numbers"] is None
    # The answer cell keeps the note; its text (what the history reads) stays the answer.
    cell = notebook.answer_cell("t" * 32, "17 and 4", "*1 number …: 17.*")
    assert cell["source"] == "**Answer**\n\n17 and 4\n\n*1 number …: 17.*"
    assert cell["metadata"]["nbchat"]["text"] == "17 and 4"


# -- whole turns ------------------------------------------------------------------------------

CODE = "print('rows', 1306)\nprint('mean', 3.14159)"


def answer_of(events):
    (answer,) = of_type(events, "answer")
    return answer


def answer_cell_of(events):
    return [c for c in of_type(events, "cell") if c["role"] == "answer"][0]["cell"]


def phases(events):
    return [p["phase"] for p in of_type(events, "phase")]


async def test_a_right_answer_passes_unmarked(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        claude_standin.code(CODE), claude_standin.text("Cell [1] shows 1,306 rows with a mean of 3.14.")
    )
    events = await nbchat.ask("right.ipynb", "How many rows?", write="server")
    answer = answer_of(events)
    assert (answer["checked"], answer["unverified"]) == (2, [])
    assert len(claude_standin.requests) == 2  # no correction asked
    assert "verifying" not in phases(events)
    assert answer_cell_of(events)["source"] == "**Answer**\n\nCell [1] shows 1,306 rows with a mean of 3.14."
    nb = nbformat.read(jp_root_dir / "right.ipynb", as_version=4)
    assert nb.metadata["nbchat"]["turns"][0]["numbers"] == {"checked": 2, "unverified": 0}


async def test_a_made_up_number_gets_one_correction_then_is_marked(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        claude_standin.code(CODE),
        claude_standin.text("Cell [1] shows 1,306 rows and 17 duplicates."),
        claude_standin.text("Cell [1] shows 1,306 rows; about 17 are duplicates."),  # still wrong
        claude_standin.text("A third answer nobody may ask for: 99."),
    )
    events = await nbchat.ask("made_up.ipynb", "How many rows?", write="server")
    # Exactly one correction request, tools off, naming the number.
    assert len(claude_standin.requests) == 3
    correction = claude_standin.requests[2]["body"]
    assert correction["tool_choice"] == {"type": "none"}
    asked = correction["messages"][-1]["content"][0]["text"]
    assert "17" in asked and "1,306" not in asked
    assert correction["messages"][-2]["content"][0]["text"] == "Cell [1] shows 1,306 rows and 17 duplicates."
    assert phases(events)[-1] == "verifying"
    # The corrected answer replaced the first; what remains unverified is reported.
    text = "Cell [1] shows 1,306 rows; about 17 are duplicates."
    answer = answer_of(events)
    assert answer["text"] == text and answer["checked"] == 2
    assert answer["unverified"] == [
        {"text": "17", "start": 33, "end": 35, "reason": "not_in_cell", "cell": 1, "occurrence": 0}
    ]
    # The correction did not stream into the panel as more prose.
    assert "".join(d["text"] for d in of_type(events, "text_delta")) == "Cell [1] shows 1,306 rows and 17 duplicates."
    cell = answer_cell_of(events)
    assert cell["source"] == (
        f"**Answer**\n\n{text}\n\n*1 number in this answer was not found in the cells' outputs: 17.*"
    )
    assert cell["metadata"]["nbchat"]["text"] == text
    nb = nbformat.read(jp_root_dir / "made_up.ipynb", as_version=4)
    (turn,) = nb.metadata["nbchat"]["turns"]
    assert (turn["answer"], turn["numbers"]) == (text, {"checked": 2, "unverified": 1})


async def test_a_correction_that_fixes_the_answer_ends_unmarked(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code(CODE),
        claude_standin.text("Cell [1] shows 1,360 rows."),
        claude_standin.text("Cell [1] shows 1,306 rows."),
    )
    events = await nbchat.ask(notebook_path, "How many rows?")
    assert len(claude_standin.requests) == 3
    answer = answer_of(events)
    assert (answer["text"], answer["checked"], answer["unverified"]) == ("Cell [1] shows 1,306 rows.", 1, [])
    assert answer_cell_of(events)["source"] == "**Answer**\n\nCell [1] shows 1,306 rows."
    assert events[-1]["record"]["turns"][0]["numbers"] == {"checked": 1, "unverified": 0}


async def test_a_number_quoted_from_the_wrong_cell_is_marked(nbchat, claude_standin):
    claude_standin.script(claude_standin.code("print(42)"), claude_standin.code("print(7)"), claude_standin.text("Done."))
    first = await nbchat.ask("cells.ipynb", "Print two numbers", write="server")
    forty_two, seven = [c["cell"]["execution_count"] for c in of_type(first, "cell") if c["role"] == "code"]
    # A follow-up answered from the notebook's cells: right cell, then the wrong one.
    right, wrong = f"Cell [{forty_two}] shows 42.", f"Cell [{seven}] shows 42."
    claude_standin.script(claude_standin.text(right))
    events = await nbchat.ask("cells.ipynb", "Which cell printed the larger number?", write="server")
    assert answer_of(events)["unverified"] == [] and len(claude_standin.requests) == 4
    claude_standin.script(claude_standin.text(wrong), claude_standin.text(wrong))
    events = await nbchat.ask("cells.ipynb", "Which cell printed the larger number?", write="server")
    assert len(claude_standin.requests) == 6  # the answer, and one correction
    assert f"42 (not found in Cell [{seven}]'s outputs)" in claude_standin.requests[-1]["body"]["messages"][-1]["content"][0]["text"]
    answer = answer_of(events)
    assert answer["text"] == wrong
    assert answer["unverified"] == [
        {"text": "42", "start": len(wrong) - 3, "end": len(wrong) - 1, "reason": "not_in_cell", "cell": seven, "occurrence": 0}
    ]


class TestVerificationOff:
    @pytest.fixture
    def nbchat_config(self):
        return {"verify_numbers": False}

    async def test_answers_go_unchecked(self, nbchat, claude_standin, notebook_path):
        claude_standin.script(claude_standin.code(CODE), claude_standin.text("Cell [1] shows 17 rows."))
        events = await nbchat.ask(notebook_path, "How many rows?")
        answer = answer_of(events)
        assert (answer["checked"], answer["unverified"]) == (None, [])
        assert len(claude_standin.requests) == 2
        assert events[-1]["record"]["turns"][0]["numbers"] is None


async def test_a_failed_correction_leaves_the_first_answer_marked(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code(CODE), claude_standin.text("Cell [1] shows 17 rows."), {"status": 400}
    )
    events = await nbchat.ask(notebook_path, "How many rows?")
    assert len(claude_standin.requests) == 3
    answer = answer_of(events)
    assert answer["text"] == "Cell [1] shows 17 rows."
    assert [u["text"] for u in answer["unverified"]] == ["17"]
    assert of_type(events, "error") == [] and events[-1]["status"] == "done"
