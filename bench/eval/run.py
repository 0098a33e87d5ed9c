"""Run the evaluation through the real pipeline and report answer quality.

    python -m bench.eval.run            # Claude stand-in, scripted answers (proves the runner)
    python -m bench.eval.run --real     # real Claude: needs ANTHROPIC_API_KEY (costs tokens)

A real Jupyter server with jupyter_nbchat runs in a subprocess; each question gets its own
notebook, the turn runs over the HTTP + WebSocket API like the panel's, and the result is
scored: first-try executable (the first cell ran without error), fixed within N (the
notebook ended with every cell error-free), accurate (the answer states the values pandas
computed from the same files).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_nbchat.testing.claude_standin import ClaudeStandIn

from . import datasets
from .questions import QUESTIONS, Question, states

#: How the stand-in answers each question, so every metric has a case that fails it.
STANDIN_PLAN = {
    "gender-counts": "correct",
    "women-mean-price": "fix",
    "top-brand": "correct",
    "q2-revenue": "wrong",
    "missing-ratings": "correct",
}


@dataclass
class Outcome:
    id: str
    status: str
    first_try: bool
    fixed: bool
    accurate: bool
    cells: int
    answer: str


def standin_responses(question: Question, plan: str) -> list[dict[str, Any]]:
    """Scripted turns: the reference code, optionally a failure first, and an answer."""
    values = question.expected()
    if plan == "wrong":
        values = [round(v * 1.1 + 1, 2) if isinstance(v, (int, float)) else f"not {v}" for v in values]
    answer = ClaudeStandIn.text("Cell [1] shows: " + ", ".join(str(v) for v in values) + ".")
    first = ClaudeStandIn.code(question.reference_code)
    if plan == "fix":
        broken = question.reference_code.replace("'Gender'", "'gender'")
        return [ClaudeStandIn.code(broken), first, answer]
    return [first, answer]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jupyter server` with the extension, in a subprocess, on a free port."""

    def __init__(self, root: Path, base_url: str | None, api_key: str, model: str | None) -> None:
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        config = root.parent / "eval_config.py"
        lines = [
            f"c.ServerApp.root_dir = {str(root)!r}",
            f"c.ServerApp.port = {self.port}",
            f"c.IdentityProvider.token = {self.token!r}",
            "c.ServerApp.open_browser = False",
            "c.ServerApp.allow_root = True",
            "c.ServerApp.jpserver_extensions = {'jupyter_nbchat': True}",
            "c.NbChat.executor = 'kernel'",
            "c.NbChat.execution_timeout = 120.0",
        ]
        if base_url:
            lines.append(f"c.NbChat.anthropic_base_url = {base_url!r}")
        if model:
            lines.append(f"c.NbChat.model = {model!r}")
        config.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "ANTHROPIC_API_KEY": api_key, "NO_PROXY": "localhost,127.0.0.1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root.parent / "server.log").open("w"),
        )
        self.http = AsyncHTTPClient()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def fetch(self, path: str, method: str = "GET", body: Any = None) -> Any:
        request = HTTPRequest(
            f"{self.url}/{path}",
            method=method,
            body=None if body is None else json.dumps(body),
            headers={"Authorization": f"token {self.token}"},
            request_timeout=600,
        )
        response = await self.http.fetch(request)
        return json.loads(response.body or b"null")

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited; see {self.root.parent / 'server.log'}")
            try:
                await self.fetch("nbchat/status")
                return
            except Exception:
                await asyncio.sleep(0.3)
        raise TimeoutError("jupyter server did not start")

    async def events(self, turn_id: str) -> list[dict[str, Any]]:
        ws = await websocket_connect(
            HTTPRequest(
                f"ws://127.0.0.1:{self.port}/nbchat/turns/{turn_id}/events",
                headers={"Authorization": f"token {self.token}"},
            )
        )
        events = []
        while (message := await ws.read_message()) is not None:
            events.append(json.loads(message))
        return events

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def score(question: Question, events: list[dict[str, Any]]) -> Outcome:
    code_events = [e for e in events if e["type"] == "cell" and e["role"] == "code"]
    final: dict[str, dict[str, Any]] = {}
    for event in code_events:  # a fixed cell takes the place of the one it replaces
        if event.get("replaces"):
            final.pop(event["replaces"], None)
        final[event["cell"]["id"]] = event["cell"]

    def ok(cell: dict[str, Any]) -> bool:
        return not any(o.get("output_type") == "error" for o in cell["outputs"])

    answer = next((e["text"] for e in events if e["type"] == "answer"), "")
    status = events[-1].get("status", "?") if events else "?"
    return Outcome(
        id=question.id,
        status=status,
        first_try=bool(code_events) and ok(code_events[0]["cell"]),
        fixed=status == "done" and bool(final) and all(ok(c) for c in final.values()),
        accurate=bool(answer) and all(states(answer, v) for v in question.expected()),
        cells=len(code_events),
        answer=answer,
    )


async def evaluate(*, real: bool, model: str | None = None, ids: list[str] | None = None) -> dict[str, Any]:
    questions = [q for q in QUESTIONS if not ids or q.id in ids]
    standin = None if real else ClaudeStandIn()
    workdir = Path(tempfile.mkdtemp(prefix="nbchat-eval-"))
    root = workdir / "root"
    datasets.write_all(root)
    if standin is not None:
        await standin.start()
    api_key = os.environ.get("ANTHROPIC_API_KEY", "") if real else "sk-ant-standin"
    if real and not api_key:
        raise SystemExit("--real needs ANTHROPIC_API_KEY")
    server = Server(root, standin.url if standin else None, api_key, model)
    outcomes: list[Outcome] = []
    try:
        await server.ready()
        for question in questions:
            if standin is not None:
                standin.script(*standin_responses(question, STANDIN_PLAN.get(question.id, "correct")))
            notebook = f"eval-{question.id}.ipynb"
            created = await server.fetch(
                f"api/contents/{notebook}",
                "PUT",
                {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}},
            )
            assert created["path"] == notebook
            turn = await server.fetch(
                "nbchat/turns",
                "POST",
                {"notebook_path": notebook, "question": question.text, "attachments": question.attachments, "write": "server"},
            )
            outcomes.append(score(question, await server.events(turn["turn_id"])))
    finally:
        server.stop()
        if standin is not None:
            await standin.stop()
    count = len(outcomes) or 1
    return {
        "mode": "real" if real else "standin",
        "questions": len(outcomes),
        "first_try_rate": sum(o.first_try for o in outcomes) / count,
        "fixed_within_n_rate": sum(o.fixed for o in outcomes) / count,
        "accuracy": sum(o.accurate for o in outcomes) / count,
        "outcomes": [asdict(o) for o in outcomes],
    }


def print_report(summary: dict[str, Any]) -> None:
    print(f"{'question':<20} {'status':<9} {'first try':<10} {'fixed':<6} {'accurate':<9} cells")
    for o in summary["outcomes"]:
        print(f"{o['id']:<20} {o['status']:<9} {str(o['first_try']):<10} {str(o['fixed']):<6} {str(o['accurate']):<9} {o['cells']}")
    print(
        f"\n{summary['mode']}: {summary['questions']} questions | first-try executable "
        f"{summary['first_try_rate']:.0%} | fixed within N {summary['fixed_within_n_rate']:.0%} "
        f"| accuracy {summary['accuracy']:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate jupyter_nbchat's answers.")
    parser.add_argument("--real", action="store_true", help="use the real Claude API (ANTHROPIC_API_KEY)")
    parser.add_argument("--model", help="Claude model id (default: the server's)")
    parser.add_argument("--only", help="comma-separated question ids")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    summary = asyncio.run(evaluate(real=args.real, model=args.model, ids=args.only.split(",") if args.only else None))
    print_report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
