"""Run the evaluation through the real pipeline and report answer quality per category.

    python -m bench.eval.run                 # ANTHROPIC_API_KEY set: real Claude (costs tokens)
                                             # not set: the Claude stand-in, scripted answers
    python -m bench.eval.run --standin       # the stand-in even with a key set (proves the runner)
    python -m bench.eval.run --real --write-docs   # real Claude, and the table into docs/eval.md

A real Jupyter server with jupyter_nbchat runs in a subprocess; each question gets its own
notebook and kernel, the turn runs over the HTTP + WebSocket API the panel uses, and the
events are scored (`score`). The two modes differ only in where the server sends its Messages
API calls (the stand-in's URL, or ANTHROPIC_BASE_URL / Anthropic's API) and the key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from jupyter_nbchat.testing.claude_standin import ClaudeStandIn

from ..harness import Server
from . import datasets
from .questions import CATEGORIES, Question, by_id, chart_kinds, expected_values, spoken, states

#: Fix attempts the server allows (the "N" of "fixed within N"); the server's default.
FIX_ATTEMPTS = 3
DOCS = Path(__file__).resolve().parents[2] / "docs" / "eval.md"

#: How the stand-in answers, so every column of the report has a case that fails it.
#: correct: the analyst's cell, then the computed values. fix: a naive first cell that fails on
#: the messy file, then the right one. unfixable: a failing cell N + 1 times, then an answer
#: without the values. wrong: the right cell, then wrong numbers (kept when the server asks
#: for a correction). wrong-chart: the values are right but the chart is of another kind.
STANDIN_PLAN = {
    "inventory-value": "fix",
    "report-total-budget": "fix",
    "sensor-longest-gap": "unfixable",
    "orders-germany-total": "wrong",
    "shoes-category-pie": "wrong-chart",
}
#: Token figures each scripted response reports, so the report's sums can be checked.
STANDIN_USAGE = {"input_tokens": 1000, "output_tokens": 100}
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "application/vnd.plotly.v1+json")


@dataclass
class Outcome:
    id: str
    category: str
    status: str
    first_try: bool  # the first code cell ran without an error
    errored: bool  # some cell of the turn failed
    fixed: bool | None  # errored, and the turn ended done with every remaining cell clean
    correct: bool  # every expected value stated (and, for charts, the chart drawn, of its kind)
    chart: bool | None  # charts: an image was drawn by code of the asked kind
    verified: bool | None  # the server's own check found every number in the outputs (None: not reported)
    unverified: list[Any] = field(default_factory=list)
    cells: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    requests: int | None = None  # Messages API calls the stand-in served (stand-in mode)
    seconds: float = 0.0
    answer: str = ""


# -- the stand-in's script -----------------------------------------------------------------


def _wrong(value: Any) -> Any:
    if isinstance(value, date):
        return date.fromordinal(value.toordinal() + 1)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(value * 1.1 + 1, 2)
    return value


def _other_chart(code: str, kind: str) -> str:
    """The same cell drawing another kind of chart (its kind's own arguments dropped)."""
    other = "line" if kind == "bar" else "bar"
    return re.sub(rf"\.plot\.{kind}\([^)]*\)", f".plot.{other}()", code)


def standin_responses(
    question: Question, plan: str = "correct", fix_attempts: int = FIX_ATTEMPTS
) -> list[dict[str, Any]]:
    """What the scripted Claude says for one question, one response per Messages API call."""
    values = expected_values(question)
    code = question.code
    if plan == "wrong":
        values = [_wrong(v) for v in values]
    if plan == "wrong-chart":
        code = _other_chart(code, question.chart or "")
        assert code != question.code, f"{question.id}: no chart call to swap"
    if plan == "unfixable":
        text = "I could not compute this: the same step failed on every attempt."
    elif values:
        text = "The answer: " + ", ".join(spoken(v) for v in values) + "."
    else:
        text = "The chart above shows it."
    answer = ClaudeStandIn.text(text, usage=STANDIN_USAGE)
    run = ClaudeStandIn.code(code, "Let me compute that.", usage=STANDIN_USAGE)
    if plan in ("fix", "unfixable"):
        assert question.naive_code, f"{question.id}: the {plan} plan needs naive_code"
        naive = ClaudeStandIn.code(question.naive_code, "Reading the file.", usage=STANDIN_USAGE)
        if plan == "unfixable":
            return [naive] * (fix_attempts + 1) + [answer]
        return [naive, run, answer]
    if plan == "wrong":  # the server may ask once to correct unverified numbers: Claude insists
        return [run, answer, answer]
    return [run, answer]


# -- scoring -------------------------------------------------------------------------------


def _ok(cell: dict[str, Any]) -> bool:
    return not any(o.get("output_type") == "error" for o in cell["outputs"])


def score(question: Question, events: list[dict[str, Any]]) -> Outcome:
    """One question's outcome, from the turn's events alone."""
    code_events = [e for e in events if e["type"] == "cell" and e.get("role") == "code"]
    final: dict[str, dict[str, Any]] = {}
    for event in code_events:  # a fixed cell takes the place of the one it replaces
        if event.get("replaces"):
            final.pop(event["replaces"], None)
        final[event["cell"]["id"]] = event["cell"]
    answer_event = next((e for e in events if e["type"] == "answer"), {})
    answer = answer_event.get("text", "")
    usage = next((e for e in reversed(events) if e["type"] == "usage"), {})
    status = next((e.get("status", "?") for e in events if e["type"] == "turn_finished"), "?")
    errored = any(not _ok(e["cell"]) for e in code_events)

    chart = None
    if question.chart:
        code = "\n".join(_source(c) for c in final.values())
        drawn = any(
            any(t in o.get("data", {}) for t in IMAGE_TYPES) for c in final.values() for o in c["outputs"]
        )
        chart = drawn and question.chart in chart_kinds(code)
    stated = bool(answer) and all(states(answer, v, question.tolerance) for v in expected_values(question))

    # The server's own check of the answer's numbers (`checked`: how many; `unverified`: the
    # ones no output shows); absent or None when the server does not check.
    verified, unverified = None, []
    if answer_event.get("checked") is not None:
        raw = answer_event.get("unverified") or []
        unverified = [u.get("text", u) if isinstance(u, dict) else u for u in raw]
        verified = not unverified
    return Outcome(
        id=question.id,
        category=question.category,
        status=status,
        first_try=bool(code_events) and _ok(code_events[0]["cell"]),
        errored=errored,
        fixed=(status == "done" and all(_ok(c) for c in final.values())) if errored else None,
        correct=stated and chart is not False,
        chart=chart,
        verified=verified,
        unverified=unverified,
        cells=len(code_events),
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
        cost_usd=usage.get("cost_usd"),
        answer=answer,
    )


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def summarize(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per category (and `all`): counts, token sums and cost."""
    rows: dict[str, dict[str, Any]] = {}
    groups = {c: [o for o in outcomes if o.category == c] for c in CATEGORIES}
    groups = {c: g for c, g in groups.items() if g}
    groups["all"] = outcomes
    for name, group in groups.items():
        costs = [o.cost_usd for o in group]
        reported = [o for o in group if o.verified is not None]
        rows[name] = {
            "questions": len(group),
            "first_try": sum(o.first_try for o in group),
            "errored": sum(o.errored for o in group),
            "fixed": sum(bool(o.fixed) for o in group),
            "correct": sum(o.correct for o in group),
            "verified": sum(bool(o.verified) for o in reported) if reported else None,
            "verified_of": len(reported),
            "input_tokens": sum(o.input_tokens for o in group),
            "output_tokens": sum(o.output_tokens for o in group),
            "cost_usd": round(sum(costs), 6) if costs and None not in costs else None,
        }
    return rows


# -- running -------------------------------------------------------------------------------


async def evaluate(
    *,
    real: bool,
    model: str | None = None,
    ids: list[str] | None = None,
    plan: dict[str, str] | None = None,
    fix_attempts: int = FIX_ATTEMPTS,
) -> dict[str, Any]:
    questions = by_id(ids)
    plan = STANDIN_PLAN if plan is None else plan
    api_key = os.environ.get("ANTHROPIC_API_KEY", "") if real else "sk-ant-standin"
    if real and not api_key:
        raise SystemExit("the real run needs ANTHROPIC_API_KEY")
    standin = None if real else ClaudeStandIn()
    workdir = Path(tempfile.mkdtemp(prefix="nbchat-eval-"))
    root = workdir / "root"
    datasets.write_all(root)
    if standin is not None:
        await standin.start()
    config = [
        "c.NbChat.executor = 'kernel'",
        "c.NbChat.execution_timeout = 120.0",
        f"c.NbChat.max_fix_attempts = {fix_attempts}",
    ]
    if standin is not None:  # the one difference between the modes: where Messages API calls go
        config.append(f"c.NbChat.anthropic_base_url = {standin.url!r}")
    if model:
        config.append(f"c.NbChat.model = {model!r}")
    server = Server(root, config, {"ANTHROPIC_API_KEY": api_key})
    outcomes: list[Outcome] = []
    closing: list[asyncio.Task] = []
    started = time.monotonic()
    try:
        await server.ready()
        for question in questions:
            if standin is not None:
                standin.script(*standin_responses(question, plan.get(question.id, "correct"), fix_attempts))
                served = len(standin.requests)
            notebook = f"eval-{question.id}.ipynb"
            await server.new_notebook(notebook)
            t0 = time.monotonic()
            events = await server.ask(notebook, question.text, attachments=list(question.files))
            outcome = score(question, events)
            outcome.seconds = round(time.monotonic() - t0, 2)
            if standin is not None:
                outcome.requests = len(standin.requests) - served
            outcomes.append(outcome)
            closing.append(asyncio.ensure_future(_close_kernel(server, notebook)))  # while the next one runs
        await asyncio.gather(*closing)
    finally:
        server.stop()
        if standin is not None:
            await standin.stop()
    return {
        "mode": "real" if real else "standin",
        "model": model,
        "fix_attempts": fix_attempts,
        "questions": len(outcomes),
        "seconds": round(time.monotonic() - started, 1),
        "categories": summarize(outcomes),
        "outcomes": [asdict(o) for o in outcomes],
    }


async def _close_kernel(server: Server, notebook: str) -> None:
    """One kernel per question, shut down after it, so 40 questions never hold 40 kernels."""
    for session in await server.fetch("api/sessions") or []:
        if session.get("path") == notebook:
            await server.fetch(f"api/sessions/{session['id']}", "DELETE")


# -- reporting -----------------------------------------------------------------------------

def columns(summary: dict[str, Any]) -> list[str]:
    return ["category", "questions", "first-try executable", f"fixed within {summary['fix_attempts']}",
            "correct", "numbers verified", "input tokens", "output tokens", "cost (USD)"]


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "–"


def table_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in summary["categories"].items():
        rows.append([
            name,
            str(r["questions"]),
            _rate(r["first_try"], r["questions"]),
            _rate(r["fixed"], r["errored"]) if r["errored"] else "no errors",
            _rate(r["correct"], r["questions"]),
            "n/a" if r["verified"] is None else _rate(r["verified"], r["verified_of"]),
            f"{r['input_tokens']:,}",
            f"{r['output_tokens']:,}",
            "n/a" if r["cost_usd"] is None else f"{r['cost_usd']:.4f}",
        ])
    return rows


def print_report(summary: dict[str, Any]) -> None:
    print(f"{'question':<28} {'category':<12} {'status':<7} {'1st try':<8} {'fixed':<6} {'correct':<8} {'chart':<6} cells  secs")
    for o in summary["outcomes"]:
        fixed = "-" if o["fixed"] is None else str(o["fixed"])
        chart = "-" if o["chart"] is None else str(o["chart"])
        print(f"{o['id']:<28} {o['category']:<12} {o['status']:<7} {str(o['first_try']):<8} {fixed:<6} "
              f"{str(o['correct']):<8} {chart:<6} {o['cells']:<6} {o['seconds']}")
    rows = [columns(summary), *table_rows(summary)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"\n{summary['mode']}: {summary['questions']} questions in {summary['seconds']} s")
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


def markdown(summary: dict[str, Any]) -> str:
    """docs/eval.md: the table of one real run, with what it measured."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Answer quality: the latest real run",
        "",
        f"Written by `python -m bench.eval.run --real --write-docs` on {when}: model "
        f"`{summary['model'] or 'the server default'}`, {summary['questions']} questions over the generated "
        "files of `bench/eval/datasets.py`, answers compared with what pandas computes from the same data "
        "(`bench/eval/questions.py`). Only a run against the real Claude API writes this page; the "
        "stand-in's scripted run proves the runner (docs/benchmarks.md, *Answer quality*).",
        "",
        "| " + " | ".join(columns(summary)) + " |",
        "| " + " | ".join("---" for _ in columns(summary)) + " |",
        *("| " + " | ".join(row) + " |" for row in table_rows(summary)),
        "",
        "Questions not answered correctly:",
        "",
    ]
    misses = [o for o in summary["outcomes"] if not o["correct"]]
    lines += [f"- `{o['id']}` ({o['category']}): {o['answer'][:160]!r}" for o in misses] or ["- none"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate jupyter_nbchat's answers.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--real", action="store_true", help="the real Claude API (needs ANTHROPIC_API_KEY)")
    mode.add_argument("--standin", action="store_true", help="the scripted stand-in even with a key set")
    parser.add_argument("--model", help="Claude model id (default: the server's)")
    parser.add_argument("--only", help="comma-separated question ids")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--write-docs", action="store_true", help=f"write the table into {DOCS} (real runs only)")
    args = parser.parse_args()
    real = args.real or (not args.standin and bool(os.environ.get("ANTHROPIC_API_KEY")))
    if args.write_docs and not real:
        parser.error("--write-docs records a real run: set ANTHROPIC_API_KEY (stand-in figures only prove the runner)")
    print(f"mode: {'real Claude API' if real else 'Claude stand-in (scripted)'}", flush=True)
    ids = args.only.split(",") if args.only else None
    summary = asyncio.run(evaluate(real=real, model=args.model, ids=ids))
    print_report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    if args.write_docs:
        DOCS.write_text(markdown(summary))
        print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
