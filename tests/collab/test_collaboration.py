"""With jupyter-collaboration: a turn the server writes never costs a collaborator a keystroke.

A second person has the notebook open (a real Y client in its collaboration room, joined the
way JupyterLab joins it: a session, then the room's WebSocket) and types while a turn whose
page went away runs and is written by the server. Written to the file behind the room, the
room would reload from the file: the typing since the last save lost, a deleted cell back.
"""

from __future__ import annotations

import asyncio
import json

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from pycrdt import Provider
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

pytestmark = pytest.mark.timeout(300)

PATH = "together.ipynb"


class RoomChannel:
    """A collaboration room's WebSocket (tornado) as the channel a pycrdt Provider syncs over."""

    def __init__(self, ws, path: str) -> None:
        self._ws, self._path = ws, path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        message = await self._ws.read_message()
        if message is None:
            raise StopAsyncIteration
        return bytes(message)

    async def send(self, message: bytes) -> None:
        await self._ws.write_message(message, binary=True)

    async def recv(self) -> bytes:
        return await self.__anext__()


async def until(condition, what: str, seconds: float = 60) -> None:
    """Wait for a condition (a bound, not a timing assertion)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def saved(path):
    """The notebook file as the room last saved it; None while the room rewrites it (it saves
    in place, so a read can land on an empty file)."""
    try:
        return nbformat.read(path, as_version=4)
    except (nbformat.reader.NotJSONError, ValueError):
        return None


def cells_of(ynb: YNotebook) -> list[dict]:
    return [ynb.get_cell(i) for i in range(ynb.cell_number)]


def roles(cells) -> list[str]:
    return [(c.get("metadata", {}).get("nbchat") or {}).get("role", "person") for c in cells]


async def join_room(jp_fetch, url: str, headers: dict, path: str):
    """Open the notebook as JupyterLab does with collaboration: a session, then the room
    (whose name goes into the URL as it is: `format:type:fileId`)."""
    response = await jp_fetch(
        "api", "collaboration", "session", path, method="PUT", body=json.dumps({"format": "json", "type": "notebook"})
    )
    session = json.loads(response.body)
    room = f"{session['format']}:{session['type']}:{session['fileId']}"
    request = HTTPRequest(f"{url}api/collaboration/room/{room}?sessionId={session['sessionId']}", headers=headers)
    return await websocket_connect(request), room


async def test_a_server_written_turn_keeps_every_collaborators_keystroke(
    nbchat, claude_standin, jp_root_dir, jp_fetch, jp_http_port, jp_base_url, jp_auth_header
):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_code_cell("total = 1", id="typed"), new_markdown_cell("delete me", id="doomed")]
    nbformat.write(nb, jp_root_dir / PATH)

    ws, room = await join_room(jp_fetch, f"ws://127.0.0.1:{jp_http_port}{jp_base_url}", jp_auth_header, PATH)
    ynb = YNotebook()
    async with Provider(ynb.ydoc, RoomChannel(ws, room)):
        await until(lambda: ynb.cell_number == 2, "the collaborator's copy is in sync")
        # The page that asks goes away at once; the server writes the turn when it ends.
        claude_standin.script(claude_standin.code("print(6 * 7)"), claude_standin.text("Cell [1]: 42."))
        turn_id = await nbchat.start_turn(PATH, "What is 6 x 7?")

        # Meanwhile the collaborator deletes a cell and types, one character at a time,
        # before, while and after the server writes (the room does not save while they type).
        del ynb.ycells[1]
        typed = " + 41  # every character of this stays"
        source = ynb.ycells[0]["source"]
        for ch in typed:
            source.insert(len(source), ch)
            await asyncio.sleep(0.03)
        await until(lambda: "answer" in roles(cells_of(ynb)), "the turn reached the collaborator")
        for ch in " ok":
            source.insert(len(source), ch)
            await asyncio.sleep(0.03)

        expected = "total = 1" + typed + " ok"
        await until(
            lambda: (file := saved(jp_root_dir / PATH)) is not None
            and file.cells[0].source == expected and len(file.cells) == 4,
            "the room saved everything to the file",
        )
        await asyncio.sleep(1.5)  # past the room's save delay: a reload from the file would show now
        mine = cells_of(ynb)

    # The collaborator's view: their typing whole, the deleted cell gone, the turn once.
    assert mine[0]["source"] == expected
    assert roles(mine) == ["person", "question", "code", "answer"]
    assert [c["cell_type"] for c in mine] == ["code", "markdown", "code", "markdown"]  # the question renders
    assert mine[1]["source"].endswith("What is 6 x 7?")
    assert mine[2]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "42\n"}]
    assert "doomed" not in [c["id"] for c in mine]
    # And the file the room saved agrees, with the turn's record.
    await until(lambda: saved(jp_root_dir / PATH) is not None, "a readable file")
    file = saved(jp_root_dir / PATH)
    assert [c.source for c in file.cells] == [c["source"] for c in mine]
    assert file.metadata["nbchat"]["turns"][0]["turn_id"] == turn_id
    info = await nbchat.get("turns", turn_id)
    assert info["status"] == "done"
