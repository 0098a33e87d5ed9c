"""Warm-up on attach, live variables, restart, and choosing the executor per chat."""



async def test_warm_then_variables_then_restart(nbchat, claude_standin, notebook_path, jp_root_dir):
    (jp_root_dir / "tiny.csv").write_text("a,b\n1,2\n")
    assert (await nbchat.get("variables", params={"notebook_path": notebook_path}))["variables"] == []
    response = await nbchat.post("executor", "warm", body={"notebook_path": notebook_path, "attachments": ["tiny.csv"]})
    assert response.code == 202

    claude_standin.script(
        claude_standin.code("import pandas as pd\nframe = pd.read_csv('tiny.csv')\nitems = [1, 2, 3]"),
        claude_standin.text("Loaded."),
    )
    await nbchat.ask(notebook_path, "Load it", attachments=["tiny.csv"])
    variables = (await nbchat.get("variables", params={"notebook_path": notebook_path}))["variables"]
    by_name = {v["name"]: v for v in variables}
    assert by_name["frame"]["type"] == "DataFrame" and by_name["frame"]["shape"] == [1, 2]
    assert by_name["frame"]["columns"] == ["a", "b"] and by_name["items"]["length"] == 3
    assert "pd" not in by_name  # modules are not variables

    response = await nbchat.post("executor", "restart", body={"notebook_path": notebook_path})
    assert response.code == 202
    assert (await nbchat.get("variables", params={"notebook_path": notebook_path}))["variables"] == []


async def test_restart_without_an_executor_is_a_clear_error(nbchat):
    code, reply = await nbchat.error("POST", "executor", "restart", body={"notebook_path": "never.ipynb"})
    assert code == 400 and "no executor" in reply["message"]


async def test_e2b_without_a_key_says_how_to_set_it(nbchat, claude_standin, notebook_path):
    code, reply = await nbchat.error(
        "POST", "turns", body={"notebook_path": notebook_path, "question": "hi", "executor": "e2b"}
    )
    assert code == 400 and "E2B_API_KEY" in reply["message"]
    code, reply = await nbchat.error("POST", "executor", "warm", body={"notebook_path": notebook_path, "executor": "e2b"})
    assert code == 400 and "E2B_API_KEY" in reply["message"]
    assert claude_standin.requests == []


async def test_status_reports_the_default_executor(nbchat):
    status = await nbchat.get("status")
    assert status["executor"] == "kernel" and status["e2b_available"] is False
