"""What prompt caching saves on a 5-turn chat, under the real API's rules.

A real `jupyter server` with jupyter_nbchat (bench/harness.py) asks five questions about two
attached files; each turn runs two cells, then answers (three Messages API calls). The Claude
stand-in bills every call's input as the API's prompt cache does (testing/claude_api.py:
each model's minimum cacheable prefix, at most 4 breakpoints, 20-block lookback, 5-minute
lifetime), so the usage events say how many input tokens were read from the cache, written
to it and left uncached. Baseline, side by side: the same tokens with no caching at all
(every one billed as plain input). Run for models whose minimum is 1,024, 2,048 and 4,096.

    python bench/bench_caching.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Server, kernel_chat  # noqa: E402
from jupyter_nbchat.llm.pricing import price_of  # noqa: E402
from jupyter_nbchat.testing.claude_api import cache_minimum  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn  # noqa: E402

MODELS = ["claude-sonnet-5-5", "claude-sonnet-4-6", "claude-haiku-4-5"]
QUESTIONS = [
    "How many orders per region?",
    "Which region has the highest average basket?",
    "Join the customers and show orders per segment.",
    "How did orders change month by month?",
    "Which five customers ordered most?",
]


def files(root: Path) -> None:
    regions = ["North", "South", "East", "West"]
    lines = ["order_id,customer_id,region,basket,month"]
    lines += [f"{i},{i % 37},{regions[i % 4]},{10 + (i * 7) % 90}.5,2026-{1 + i % 12:02d}" for i in range(400)]
    (root / "orders.csv").write_text("\n".join(lines) + "\n")
    customers = ["customer_id,segment,country"] + [f"{i},{['retail', 'pro'][i % 2]},{['DE', 'FR', 'UK'][i % 3]}" for i in range(37)]
    (root / "customers.csv").write_text("\n".join(customers) + "\n")


async def chat(server: Server, claude: ClaudeStandIn, model: str) -> list[dict[str, int]]:
    notebook = f"cache-{model}.ipynb"
    await server.new_notebook(notebook)
    claude.reset()  # a fresh prompt cache
    turns = []
    for n, question in enumerate(QUESTIONS, 1):
        claude.script(
            ClaudeStandIn.code(
                "import pandas as pd\norders = pd.read_csv('orders.csv')\ncustomers = pd.read_csv('customers.csv')\n"
                f"step{n} = orders.groupby('region')['basket'].agg(['count', 'mean'])\nprint(step{n})",
                text=f"Loading the data for question {n}.",
            ),
            ClaudeStandIn.code(f"print(step{n}.sort_values('mean').tail(2))"),
            ClaudeStandIn.text(f"Cell [{2 * n}] shows the two regions with the highest mean basket."),
        )
        events = await server.ask(notebook, question, model=model, attachments=["orders.csv", "customers.csv"])
        assert events[-1].get("status") == "done", events[-3:]
        usage = [e for e in events if e["type"] == "usage"][-1]
        turns.append(
            {
                "read": usage["cache_read_input_tokens"],
                "written": usage["cache_creation_input_tokens"],
                "uncached": usage["input_tokens"],
                "output": usage["output_tokens"],
            }
        )
    return turns


def cost(model: str, turn: dict[str, int], cached: bool) -> float:
    price = price_of(model)
    assert price is not None
    whole = turn["read"] + turn["written"] + turn["uncached"]
    if not cached:
        return (whole * price.input + turn["output"] * price.output) / 1e6
    return (
        turn["uncached"] * price.input + turn["written"] * price.cache_write + turn["read"] * price.cache_read
        + turn["output"] * price.output
    ) / 1e6


async def main() -> None:
    async with kernel_chat("nbchat-bench-cache-", files) as (server, claude, _):
        results = {model: await chat(server, claude, model) for model in MODELS}
    for model, turns in results.items():
        print(f"\n{model} (caches prefixes of {cache_minimum(model):,}+ tokens)")
        print(f"{'turn':>4} {'input':>7} {'read':>6} {'written':>8} {'uncached':>9}   cost cached / uncached")
        for n, turn in enumerate(turns, 1):
            whole = turn["read"] + turn["written"] + turn["uncached"]
            ratio = cost(model, turn, True) / cost(model, turn, False)
            print(
                f"{n:>4} {whole:>7,} {turn['read'] / whole:>6.0%} {turn['written'] / whole:>8.0%} "
                f"{turn['uncached'] / whole:>9.0%}   {ratio:.2f}"
            )
        later = turns[1:]
        read = sum(t["read"] for t in later) / sum(t["read"] + t["written"] + t["uncached"] for t in later)
        total = sum(cost(model, t, True) for t in turns) / sum(cost(model, t, False) for t in turns)
        print(f"turns 2-5 read {read:.0%} of their input from the cache; the chat costs {total:.2f}x its uncached price")


if __name__ == "__main__":
    asyncio.run(main())
