"""The evaluation runner measures what it claims (with the Claude stand-in's scripted plan)."""

import asyncio

from bench.eval.questions import QUESTIONS, states
from bench.eval.run import STANDIN_PLAN, evaluate


def test_states_compares_numbers_at_cent_precision():
    assert states("Revenue was 212,345.67 USD.", 212345.67)
    assert not states("Revenue was 212,346.67 USD.", 212345.67)
    assert states("Nike has the most.", "nike")


def test_runner_scores_the_scripted_plan():
    summary = asyncio.run(evaluate(real=False))
    outcomes = {o["id"]: o for o in summary["outcomes"]}
    assert set(outcomes) == {q.id for q in QUESTIONS}
    for qid, plan in STANDIN_PLAN.items():
        o = outcomes[qid]
        assert o["status"] == "done"
        assert o["first_try"] is (plan != "fix"), qid
        assert o["fixed"] is True, qid
        assert o["accurate"] is (plan != "wrong"), qid
    assert outcomes["women-mean-price"]["cells"] == 2  # the failed cell and its fix
    assert summary["first_try_rate"] == 4 / 5 and summary["accuracy"] == 4 / 5
