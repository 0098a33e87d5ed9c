"""Each turn records what produced its answer in metadata.nbchat: the model, sha256 of the
exact system blocks Claude received, the attached files' sha256, the executor and the
package versions it reported (the `provenance` event, folded into the TurnRecord)."""

import hashlib
import json
import re

import nbformat
import pytest

from jupyter_nbchat.record import fold_turn, read_record, turn_records
from jupyter_nbchat.testing.plugin import of_type

TURN = "e" * 32
ROWS = "Product Name,Gender,Price\nAir Max,men,120\nGel Kayano,women,150\n"
#: A cell that prints the versions the kernel's own Python imports.
VERSIONS = (
    "import json, matplotlib, numpy, pandas\n"
    "print(json.dumps({m.__name__: m.__version__ for m in (pandas, numpy, matplotlib)}))"
)


def canonical_sha256(system):
    canonical = json.dumps(system, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def turn_record(record, turn_id):
    return next(t for t in record["turns"] if t["turn_id"] == turn_id)


def write_shoes(root):
    (root / "shoes.csv").write_text(ROWS)
    return hashlib.sha256(ROWS.encode()).hexdigest()


# -- the fold -------------------------------------------------------------------------------


def test_the_provenance_event_is_kept_in_the_turn_record():
    provenance = {
        "type": "provenance",
        "model": "claude-test",
        "system_prompt_sha256": "a" * 64,
        "files": [{"path": "shoes.csv", "sha256": "b" * 64}],
        "executor": "e2b",
        "packages": {},
    }
    events = [{"type": "turn_started", "question": "q", "question_answer_cells": False}, provenance]
    once = fold_turn(read_record({}), TURN, events)
    assert once == fold_turn(once, TURN, events)
    (turn,) = once["turns"]
    assert turn["provenance"] == {k: v for k, v in provenance.items() if k != "type"}
    assert turn_records(once)[0].provenance == turn["provenance"]
    # A hand-edited provenance that is no object reads as none; older turns have none.
    bad = read_record({"turns": [{"turn_id": TURN, "provenance": "x"}, {"turn_id": "f" * 32}]})
    assert [r.provenance for r in turn_records(bad)] == [None, None]


# -- real turns -----------------------------------------------------------------------------


async def test_a_kernel_turn_records_its_provenance(nbchat, claude_standin, notebook_path, jp_root_dir):
    file_sha = write_shoes(jp_root_dir)
    claude_standin.script(claude_standin.code(VERSIONS), claude_standin.text("Done."))
    events = await nbchat.ask(notebook_path, "Which versions?", attachments=["shoes.csv"])
    assert events[-1]["status"] == "done"

    (event,) = of_type(events, "provenance")
    provenance = turn_record(events[-1]["record"], events[0]["turn_id"])["provenance"]
    fields = ("model", "system_prompt_sha256", "files", "executor", "packages")
    assert provenance == {k: event[k] for k in fields}
    first = claude_standin.requests[0]["body"]
    assert provenance["model"] == first["model"] == (await nbchat.get("status"))["model"]
    assert re.fullmatch(r"[0-9a-f]{64}", provenance["system_prompt_sha256"])
    assert provenance["system_prompt_sha256"] == canonical_sha256(first["system"])
    assert provenance["files"] == [{"path": "shoes.csv", "sha256": file_sha}]
    assert provenance["executor"] == "kernel"
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    in_kernel = json.loads(code["outputs"][0]["text"])
    assert {name: provenance["packages"].get(name) for name in in_kernel} == in_kernel
    # Sent before Claude was first asked: the record has it while the turn runs.
    assert events.index(event) < events.index(of_type(events, "code_delta")[0])


async def test_same_attachments_same_prompt_hash(nbchat, claude_standin, jp_root_dir):
    file_sha = write_shoes(jp_root_dir)
    claude_standin.script(claude_standin.text("First."), claude_standin.text("Second."))
    path = "twice.ipynb"
    first = await nbchat.ask(path, "One?", attachments=["shoes.csv"], write="server")
    second = await nbchat.ask(path, "Two?", attachments=["shoes.csv"], write="server")

    # The server wrote both turns into the file; each TurnRecord has its provenance.
    record = nbformat.read(jp_root_dir / path, as_version=4).metadata["nbchat"]
    one = turn_record(record, first[0]["turn_id"])["provenance"]
    two = turn_record(record, second[0]["turn_id"])["provenance"]
    sent = [r["body"]["system"] for r in claude_standin.requests]
    assert len(sent) == 2
    assert one["system_prompt_sha256"] == two["system_prompt_sha256"] == canonical_sha256(sent[0])
    assert canonical_sha256(sent[1]) == two["system_prompt_sha256"]
    assert one["files"] == two["files"] == [{"path": "shoes.csv", "sha256": file_sha}]
    assert one["packages"] == two["packages"] and "pandas" in one["packages"]


class TestSandbox:
    """A new sandbox is not waited for: its first turn lists no packages, the next ones do."""

    @pytest.fixture
    def nbchat_config(self, e2b_standin):
        return {"e2b_api_key": e2b_standin.sdk_kwargs()["api_key"]}

    async def test_packages_arrive_from_the_second_turn(self, nbchat, claude_standin, jp_root_dir):
        file_sha = write_shoes(jp_root_dir)
        claude_standin.script(claude_standin.code(VERSIONS), claude_standin.text("Done."))
        first = await nbchat.ask("sbx.ipynb", "Which versions?", attachments=["shoes.csv"], write="server")
        claude_standin.script(claude_standin.text("Again."))
        second = await nbchat.ask("sbx.ipynb", "Again?", attachments=["shoes.csv"], write="server")

        record = nbformat.read(jp_root_dir / "sbx.ipynb", as_version=4).metadata["nbchat"]
        one = turn_record(record, first[0]["turn_id"])["provenance"]
        two = turn_record(record, second[0]["turn_id"])["provenance"]
        assert one["executor"] == two["executor"] == "e2b"
        assert one["files"] == two["files"] == [{"path": "shoes.csv", "sha256": file_sha}]
        assert one["packages"] == {}
        code = [c for c in of_type(first, "cell") if c["role"] == "code"][0]["cell"]
        in_sandbox = json.loads(code["outputs"][0]["text"])
        assert {name: two["packages"].get(name) for name in in_sandbox} == in_sandbox
        # Each hash is of what Claude received: the same system prompt on both turns (the
        # versions the sandbox reported later go with the question, not into the cached prefix).
        sent = [r["body"]["system"] for r in claude_standin.requests]
        assert one["system_prompt_sha256"] == two["system_prompt_sha256"] == canonical_sha256(sent[0]) == canonical_sha256(sent[2])
        asked = [b["text"] for b in claude_standin.requests[2]["body"]["messages"][-1]["content"]]
        assert any(t.startswith("Where the code runs:") and "pandas" in t for t in asked)
