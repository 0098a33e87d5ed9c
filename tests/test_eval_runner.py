"""The evaluation: its data and answer key hold together, and the runner reports what it claims.

The runner test drives the real pipeline (a jupyter server, kernels, the real `anthropic`
SDK) against the Claude stand-in's scripted plan on a subset: one question per category plus
every failure the plan scripts, and asserts the per-category report is exactly what that
script implies.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections import Counter
from datetime import date

import matplotlib
import pandas as pd
import pytest

from bench.eval import datasets
from bench.eval.questions import CATEGORIES, QUESTIONS, by_id, chart_kinds, expected_values, states
from bench.eval.run import (
    STANDIN_PLAN,
    STANDIN_USAGE,
    evaluate,
    markdown,
    score,
    standin_responses,
    summarize,
)
from jupyter_nbchat.llm.pricing import estimate_cost

matplotlib.use("Agg")

MODEL = "claude-sonnet-4-5"
FIX_ATTEMPTS = 1  # fewer failing cells for the unfixable case: a quicker test
#: One question per category, and every scripted failure (fix, unfixable, wrong, wrong chart).
SUBSET = [
    "shoes-women",
    "inventory-value",
    "orders-top-country",
    "orders-germany-total",
    "events-peak-purchase-day",
    "sensor-longest-gap",
    "shoes-price-hist",
    "shoes-category-pie",
]


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    import matplotlib.pyplot as plt

    plt.close("all")
    return out.getvalue()


def test_datasets_generate_and_every_answer_key_holds(tmp_path, monkeypatch):
    files = datasets.write_all(tmp_path)
    assert len(files) >= 8
    for name in datasets.FILES:
        assert (tmp_path / name).stat().st_size < 200_000, name
    again = tmp_path / "again"
    datasets.write_all(again)  # seeded: the same bytes (xlsx zips carry a timestamp: compare cells)
    for name in datasets.FILES:
        if name.endswith(".xlsx"):
            first = pd.read_excel(tmp_path / name, sheet_name=None, header=None)
            second = pd.read_excel(again / name, sheet_name=None, header=None)
            assert first.keys() == second.keys() and all(first[k].equals(second[k]) for k in first)
        else:
            assert (tmp_path / name).read_bytes() == (again / name).read_bytes(), name

    assert len(QUESTIONS) >= 40 and len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert set(Counter(q.category for q in QUESTIONS)) == set(CATEGORIES)
    monkeypatch.chdir(tmp_path)
    for q in QUESTIONS:
        assert all(f in datasets.FILES for f in q.files), q.id
        values = expected_values(q)  # computed from the truth; a tie for a top answer raises
        assert values or q.chart, q.id
        printed = _run(q.code)  # the analyst's cell, on the written (messy) files
        assert all(states(printed, v, q.tolerance) for v in values), (q.id, values, printed)
        if q.chart:
            assert q.chart in chart_kinds(q.code), q.id
        if q.naive_code:
            with pytest.raises(Exception):
                _run(q.naive_code)
    for qid, plan in STANDIN_PLAN.items():  # every planned case is scriptable
        assert standin_responses(by_id([qid])[0], plan)


def test_states_normalises_numbers_dates_and_words():
    assert states("Revenue was 1,306 USD.", 1306) and states("Revenue was 1306.", 1306)
    assert states("about 1\u00a0306 units", 1306) and states("212,345.67", 212345.67)
    assert not states("212,346.67", 212345.67) and not states("13060", 1306)
    assert states("It was 3.06 on average", 3.06) and not states("v3.06", 3.06)
    assert states("25.6 degrees", 25.62, 0.05) and not states("25.5 degrees", 25.62, 0.05)
    assert states("New Balance has the most.", "new balance") and not states("Nikes", "Nike")
    day = date(2024, 3, 3)
    for text in ("on 2024-03-03", "March 3, 2024", "3 March", "the 3rd of March", "Mar 3"):
        assert states(text, day), text
    assert not states("March 30", day) and not states("13 March", day)


def test_score_reads_the_servers_number_check_when_present():
    q = by_id(["shoes-women"])[0]
    cell = {"id": "c1", "source": "x", "outputs": [{"output_type": "stream", "name": "stdout", "text": "139\n"}]}
    events = [
        {"type": "cell", "role": "code", "cell": cell, "replaces": None},
        {"type": "answer", "text": "There are 139, and 7 more."},
        {"type": "usage", "input_tokens": 10, "output_tokens": 2, "cost_usd": 0.5},
        {"type": "turn_finished", "status": "done"},
    ]
    without = score(q, events)
    assert (without.verified, without.correct, without.first_try, without.fixed) == (None, True, True, None)
    events[1] = {**events[1], "checked": 2, "unverified": [{"text": "7", "start": 19, "end": 20}]}
    checked = score(q, events)
    assert checked.verified is False and checked.unverified == ["7"]
    assert summarize([without])["all"]["verified"] is None
    assert summarize([checked])["counting"] == {
        "questions": 1, "first_try": 1, "errored": 0, "fixed": 0, "correct": 1, "verified": 0,
        "verified_of": 1, "input_tokens": 10, "output_tokens": 2, "cost_usd": 0.5,
    }  # fmt: skip


def test_runner_reports_what_the_script_implies():
    summary = asyncio.run(evaluate(real=False, model=MODEL, ids=SUBSET, fix_attempts=FIX_ATTEMPTS))
    outcomes = {o["id"]: o for o in summary["outcomes"]}
    assert list(outcomes) == SUBSET and {o["category"] for o in outcomes.values()} == set(CATEGORIES)
    checking = outcomes["shoes-women"]["verified"] is not None  # the server checks answer numbers
    implied: dict[str, Counter] = {}
    for q in by_id(SUBSET):
        plan, o = STANDIN_PLAN.get(q.id, "correct"), outcomes[q.id]
        requests = len(standin_responses(q, plan, FIX_ATTEMPTS)) - (plan == "wrong" and not checking)
        expect = {
            "status": "done",
            "first_try": plan not in ("fix", "unfixable"),
            "errored": plan in ("fix", "unfixable"),
            "fixed": {"fix": True, "unfixable": False}.get(plan),
            "correct": plan in ("correct", "fix"),
            "chart": None if not q.chart else plan != "wrong-chart",
            "verified": None if not checking else plan != "wrong",
            "cells": {"fix": 2, "unfixable": FIX_ATTEMPTS + 1}.get(plan, 1),
            "requests": requests,
            "input_tokens": requests * STANDIN_USAGE["input_tokens"],
            "output_tokens": requests * STANDIN_USAGE["output_tokens"],
        }
        assert {k: o[k] for k in expect} == expect, (q.id, o["answer"])
        cost = estimate_cost(MODEL, input_tokens=expect["input_tokens"], output_tokens=expect["output_tokens"])
        assert o["cost_usd"] == cost
        for row in (q.category, "all"):
            implied.setdefault(row, Counter()).update(
                questions=1,
                first_try=expect["first_try"],
                errored=expect["errored"],
                fixed=bool(expect["fixed"]),
                correct=expect["correct"],
                verified=bool(expect["verified"]),
                verified_of=checking,
                input_tokens=expect["input_tokens"],
                output_tokens=expect["output_tokens"],
                cost_usd=cost,
            )
    for row, figures in summary["categories"].items():
        want = {k: implied[row][k] for k in figures if k != "cost_usd"}
        if not checking:
            want["verified"] = None
        assert {k: v for k, v in figures.items() if k != "cost_usd"} == want, row
        assert figures["cost_usd"] == pytest.approx(implied[row]["cost_usd"], abs=1e-6), row
    page = markdown({**summary, "mode": "real"})
    assert "| all | 8 | 6/8 (75%) | 1/2 (50%) | 5/8 (62%) |" in page
    json.dumps(summary, default=str)
