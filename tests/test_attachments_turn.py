"""Attached files in a turn: Claude gets headers and counts, never the rows by default."""

import json

import pytest

from jupyter_nbchat.testing.plugin import of_type

ROWS = [("Air Max", "men", 120), ("Gel Kayano", "women", 150), ("Zeta Secret Rowvalue", "women", 99)]


def write_shoes(root, folder=""):
    target = root / folder if folder else root
    target.mkdir(parents=True, exist_ok=True)
    lines = ["Product Name,Gender,Price"] + [f"{n},{g},{p}" for n, g, p in ROWS]
    (target / "shoes.csv").write_text("\n".join(lines) + "\n")


async def test_headers_go_to_claude_and_rows_do_not(nbchat, claude_standin, notebook_path, jp_root_dir):
    write_shoes(jp_root_dir)
    claude_standin.script(
        claude_standin.code("import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nshoes['Gender'].value_counts()"),
        claude_standin.text("Cell [1]: 2 women, 1 man."),
    )
    events = await nbchat.ask(notebook_path, "How many shoes per gender?", attachments=["shoes.csv"])
    request = claude_standin.requests[0]["body"]
    files_block = request["system"][-1]
    assert files_block["cache_control"] == {"type": "ephemeral"}
    for quoted in ('"Product Name"', '"Gender"', '"Price"', '"shoes.csv"'):
        assert quoted in files_block["text"]
    assert "3 rows" in files_block["text"] or "3 data rows" in files_block["text"]
    assert "Zeta Secret Rowvalue" not in json.dumps(claude_standin.requests)  # never the data
    manifest = of_type(events, "manifest")[0]
    assert manifest["prompt"] == files_block["text"]  # the chip shows exactly what Claude read
    assert manifest["files"][0]["tables"][0]["row_count"] == 3
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    assert "women" in code["outputs"][0]["data"]["text/plain"]  # full data for execution
    assert of_type(events, "executor_state")[0]["executor"] == "kernel"


async def test_paths_are_relative_to_the_notebook(nbchat, claude_standin, jp_root_dir):
    write_shoes(jp_root_dir, "project/data")
    (jp_root_dir / "project").mkdir(exist_ok=True)
    claude_standin.script(claude_standin.code("import os; print(os.path.exists('data/shoes.csv'))"), claude_standin.text("yes"))
    events = await nbchat.ask("project/n.ipynb", "Where is it?", attachments=["project/data/shoes.csv"], write="server")
    system = claude_standin.requests[0]["body"]["system"][-1]["text"]
    assert '"data/shoes.csv"' in system
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    assert code["outputs"][0]["text"] == "True\n"


async def test_bad_attachments_are_refused_before_the_turn(nbchat, claude_standin, notebook_path, jp_root_dir):
    code, reply = await nbchat.error(
        "POST", "turns", body={"notebook_path": notebook_path, "question": "hi", "attachments": ["../etc/passwd"]}
    )
    assert code == 400 and reply["message"]
    code, reply = await nbchat.error(
        "POST", "turns", body={"notebook_path": notebook_path, "question": "hi", "attachments": ["nope.csv"]}
    )
    assert code == 404
    for i in range(6):
        write_shoes(jp_root_dir, f"d{i}")
    code, reply = await nbchat.error(
        "POST",
        "turns",
        body={"notebook_path": notebook_path, "question": "hi", "attachments": [f"d{i}/shoes.csv" for i in range(6)]},
    )
    assert code == 400 and "5" in reply["message"]
    assert claude_standin.requests == []  # nothing was sent to Claude


async def test_schema_level_adds_dtypes(nbchat, claude_standin, notebook_path, jp_root_dir):
    write_shoes(jp_root_dir)
    claude_standin.script(claude_standin.text("ok"))
    await nbchat.ask(notebook_path, "types?", attachments=["shoes.csv"], context_level="schema")
    text = claude_standin.requests[0]["body"]["system"][-1]["text"]
    assert "int64" in text
    assert "Zeta Secret Rowvalue" not in text


async def test_prompt_size_does_not_grow_with_file_size(nbchat, claude_standin, jp_root_dir):
    header = "Product Name,Gender,Price\n"
    (jp_root_dir / "small.csv").write_text(header + "a,men,1\n" * 10)
    (jp_root_dir / "large.csv").write_text(header + "a,men,1\n" * 200_000)
    sizes = []
    for name in ("small.csv", "large.csv"):
        claude_standin.reset()
        claude_standin.script(claude_standin.text("ok"))
        await nbchat.ask(f"{name}.ipynb", "Describe", attachments=[name], write="server")
        sizes.append(len(claude_standin.requests[0]["body"]["system"][-1]["text"]))
    assert (jp_root_dir / "large.csv").stat().st_size > 1_000_000
    assert abs(sizes[1] - sizes[0]) < 20  # only the file name and row count differ


class TestLazyStart:
    @pytest.fixture
    def nbchat_config(self):
        return {"start_executor_early": False}

    async def test_a_lazy_executor_still_runs_the_turn(self, nbchat, claude_standin, notebook_path, jp_root_dir):
        write_shoes(jp_root_dir)
        claude_standin.script(claude_standin.code("print(open('shoes.csv').readline().strip())"), claude_standin.text("ok"))
        events = await nbchat.ask(notebook_path, "Header?", attachments=["shoes.csv"])
        code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
        assert code["outputs"][0]["text"] == "Product Name,Gender,Price\n"
        assert events[-1]["status"] == "done"


async def test_headless_turns_record_the_chat_in_notebook_metadata(nbchat, claude_standin, jp_root_dir):
    import nbformat

    write_shoes(jp_root_dir)
    for question in ("first", "second"):
        claude_standin.script(
            claude_standin.code("print(1)", usage={"input_tokens": 1000, "output_tokens": 10}),
            claude_standin.text("ok", usage={"input_tokens": 500, "output_tokens": 5}),
        )
        await nbchat.ask("m.ipynb", question, attachments=["shoes.csv"], write="server", model="claude-sonnet-4-5")
    chat = nbformat.read(jp_root_dir / "m.ipynb", as_version=4).metadata["nbchat"]
    assert [a["path"] for a in chat["attachments"]] == ["shoes.csv"]
    assert chat["attachments"][0]["summary"]["tables"][0]["columns"] == ["Product Name", "Gender", "Price"]
    assert chat["executor_state"]["executor"] == "kernel" and "executor" not in chat
    assert chat["context_level"] == "headers"
    assert chat["usage"]["turns"] == 2
    assert chat["usage"]["input_tokens"] == 3000 and chat["usage"]["output_tokens"] == 30
    assert chat["usage"]["cost_usd"] == pytest.approx(2 * (1500 * 3 + 15 * 15) / 1e6)
