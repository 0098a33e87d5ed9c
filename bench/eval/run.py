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
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jupyter_nbchat.testing.claude_standin import ClaudeStandIn

from ..harness import Server
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
    config = ["c.NbChat.executor = 'kernel'", "c.NbChat.execution_timeout = 120.0"]
    if standin is not None:
        config.append(f"c.NbChat.anthropic_base_url = {standin.url!r}")
    if model:
        config.append(f"c.NbChat.model = {model!r}")
    server = Server(root, config, {"ANTHROPIC_API_KEY": api_key})
    outcomes: list[Outcome] = []
    try:
        await server.ready()
        for question in questions:
            if standin is not None:
                standin.script(*standin_responses(question, STANDIN_PLAN.get(question.id, "correct")))
            notebook = f"eval-{question.id}.ipynb"
            await server.new_notebook(notebook)
            events = await server.ask(notebook, question.text, attachments=question.attachments)
            outcomes.append(score(question, events))
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
