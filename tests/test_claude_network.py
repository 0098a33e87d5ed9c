"""Claude's API out of reach: the network drops mid-answer, or nothing answers at all."""

import socket

import pytest

from jupyter_nbchat.testing.plugin import of_type


def _closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLOSED_PORT = _closed_port()


async def test_a_connection_dropped_mid_answer_ends_the_turn_with_a_message(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("kept = 1\nprint(kept)"),
        {**claude_standin.text("Cell [1] printed 1 and the rest of this answer never arrives."), "drop_after": 4},
        {**claude_standin.text("again"), "drop_after": 4},
        {**claude_standin.text("again"), "drop_after": 4},
    )
    events = await nbchat.ask(notebook_path, "Go")
    error = of_type(events, "error")[0]
    assert error["kind"] == "network" and "dropped" in error["message"]
    assert events[-1]["status"] == "error"
    # What ran is kept: the cell with its output, and the question.
    code = [e["cell"] for e in of_type(events, "cell") if e["role"] == "code"]
    assert code[0]["outputs"][0]["text"] == "1\n"
    # The server goes on: the next question is answered.
    claude_standin.script(claude_standin.text("Fine now."))
    assert of_type(await nbchat.ask(notebook_path, "Again"), "answer")[0]["text"] == "Fine now."


class TestUnreachable:
    @pytest.fixture
    def nbchat_config(self):
        return {"anthropic_base_url": f"http://127.0.0.1:{CLOSED_PORT}", "max_retries": 1}

    async def test_an_unreachable_api_is_a_network_error_and_keeps_the_question(self, nbchat, notebook_path):
        events = await nbchat.ask(notebook_path, "Anyone there?")
        error = of_type(events, "error")[0]
        assert error["kind"] == "network" and "Could not reach Claude's API" in error["message"]
        assert of_type(events, "cell")[0]["cell"]["metadata"]["nbchat"]["text"] == "Anyone there?"
