"""The first end-to-end turn: question -> Claude stand-in -> real kernel -> cells -> answer."""

import json

import nbformat

from jupyter_nbchat.testing.plugin import of_type


async def test_turn_runs_code_in_the_notebook_kernel(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code('x = 6 * 7\nprint(f"x is {x}")', text="Let me compute that."),
        claude_standin.text("The answer is **42**, printed by the cell."),
    )
    events = await nbchat.ask(notebook_path, "What is six times seven?")

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "turn_started" and events[-1] == {
        **events[-1], "type": "turn_finished", "status": "done"
    }
    cells = [e for e in of_type(events, "cell")]
    assert [c["role"] for c in cells] == ["question", "code", "answer"]
    code = cells[1]["cell"]
    assert code["source"] == 'x = 6 * 7\nprint(f"x is {x}")'
    assert code["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "x is 42\n"}]
    assert code["execution_count"] >= 1
    assert code["metadata"]["nbchat"]["role"] == "code"
    assert of_type(events, "answer")[0]["text"] == "The answer is **42**, printed by the cell."
    # The answer cell is headed like the question cell and keeps its text in the tag.
    answer = cells[2]["cell"]
    assert answer["source"] == "**Answer**\n\nThe answer is **42**, printed by the cell."
    assert answer["metadata"]["nbchat"]["text"] == "The answer is **42**, printed by the cell."
    assert cells[0]["cell"]["source"].startswith("**Question**\n\n")
    # The code cell ended with the id it started with.
    assert of_type(events, "cell_started")[0]["cell"]["id"] == code["id"]
    # Every cell is valid nbformat.
    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c["cell"]) for c in cells])
    nbformat.validate(nb)


async def test_claude_gets_the_question_the_tool_and_the_real_output(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("print(sum(range(10)))"),
        claude_standin.text("It is 45."),
    )
    await nbchat.ask(notebook_path, "Sum of 0..9?")
    first, second = claude_standin.requests
    assert first["body"]["stream"] is True
    assert [t["name"] for t in first["body"]["tools"]] == ["run_code"]
    assert first["body"]["messages"][-1]["content"][-1]["text"] == "Question: Sum of 0..9?"
    sent_key = first["headers"].get("x-api-key") or first["headers"].get("authorization")
    assert sent_key == "<redacted>"
    tool_result = second["body"]["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result"
    assert "45" in tool_result["content"] and tool_result["is_error"] is False


async def test_generated_cells_share_the_notebook_kernel(nbchat, claude_standin, notebook_path, jp_serverapp):
    claude_standin.script(claude_standin.code("shared = 'from nbchat'"), claude_standin.text("Done."))
    await nbchat.ask(notebook_path, "Set a variable")
    # The notebook's session kernel (what the open notebook uses) sees the variable.
    session = await jp_serverapp.session_manager.get_session(path=notebook_path)
    client = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"]).client()
    client.start_channels()
    printed = []
    try:
        reply = await client.execute_interactive(
            "print(shared)",
            timeout=30,
            output_hook=lambda m: printed.append(m["content"].get("text", "")),
        )
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok"
    assert "".join(printed) == "from nbchat\n"


async def test_code_streams_before_it_runs(nbchat, claude_standin, notebook_path):
    long_code = "\n".join(f"v{i} = {i}" for i in range(60)) + "\nprint(v59)"
    claude_standin.script(claude_standin.code(long_code, chunk_delay=0.02), claude_standin.text("59."))
    events = await nbchat.ask(notebook_path, "Stream it")
    deltas = of_type(events, "code_delta")
    assert len(deltas) >= 3, "code must arrive in several snapshots while written"
    assert all(long_code.startswith(d["code"]) for d in deltas)
    assert deltas[-1]["code"] == long_code
    running = of_type(events, "cell_running")[0]
    assert events.index(deltas[0]) < events.index(running)


async def test_error_output_goes_back_to_claude(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("1/0"), claude_standin.text("Division by zero failed."))
    events = await nbchat.ask(notebook_path, "Divide")
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    assert code["outputs"][0]["output_type"] == "error"
    assert code["outputs"][0]["ename"] == "ZeroDivisionError"
    result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "ZeroDivisionError" in result["content"]


async def test_server_write_appends_cells_to_the_file(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("print('saved')"), claude_standin.text("Saved."))
    events = await nbchat.ask("headless.ipynb", "Write it to disk", write="server")
    assert events[-1]["status"] == "done"
    nb = nbformat.read(jp_root_dir / "headless.ipynb", as_version=4)
    nbformat.validate(nb)
    assert [c.metadata["nbchat"]["role"] for c in nb.cells] == ["question", "code", "answer"]
    assert nb.cells[1].outputs[0]["text"] == "saved\n"


async def test_usage_is_reported(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("1+1", usage={"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 7}),
        claude_standin.text("2", usage={"input_tokens": 120, "output_tokens": 5}),
    )
    events = await nbchat.ask(notebook_path, "1+1?")
    usage = of_type(events, "usage")[-1]
    assert (usage["input_tokens"], usage["output_tokens"], usage["cache_read_input_tokens"]) == (220, 15, 7)
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    assert code["outputs"][0]["data"]["text/plain"] == "2"
    assert json.dumps(events).count("sk-ant") == 0
