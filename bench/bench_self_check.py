"""Self-checking: what the number check and the images Claude sees cost.

    python bench/bench_self_check.py

1. The number check (llm/numbers.py): `numbers.check` on a realistic answer (ten numbers in
   several formats, one `Cell [3] shows …` citation) against the outputs of ten cells
   (printed DataFrames, `describe()`, a DataFrame shown as text/plain + text/html) of about
   10 KB, 100 KB and 1 MB in all. Baseline, timed in the same loop (interleaved, medians):
   the cheapest scan of the same outputs, their text joined and one `re.findall(r"\\d+")`.
2. Images (llm/images.py): a real `jupyter server` with nbchat (bench/harness.py) runs the
   same turn twice on the local kernel, with the Claude stand-in scripting a cell that draws
   a matplotlib chart (figsize 10×6, dpi 150: larger than the 1,024 px cap) and then an
   answer, once with `images_to_claude` on and once off. The stand-in records every request
   and estimates its input tokens as the API counts them (text / 4, an image width × height
   / 750): the request that carries the cell's tool result, on against off, and the turn's
   total (usage events). The image's size as drawn (the notebook's PNG) and as sent.
   Then `TurnImages.take` on that PNG (decode, downscale, re-encode) against base64-decoding
   the same PNG alone (interleaved, medians).

Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Server, kernel_chat  # noqa: E402
from jupyter_nbchat.llm import numbers  # noqa: E402
from jupyter_nbchat.llm.images import TurnImages  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn, _estimate_tokens, _image_blocks  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
CELLS = 10

#: What the summary cell (Cell [3]) prints; the answer quotes it.
SUMMARY = (
    "orders: 1306\nreturned share: 0.5\nmean discount: 0.2513\nmedian basket: 12.41\n"
    "top region: North 412 (31.5%)\nyear: 2024\n"
)
#: Ten numbers checked: 1,306  1.3k  2024  0.25  12.4  50 %  4  412  31.5 %  12.41.
ANSWER = (
    "The file holds 1,306 orders (about 1.3k) from 2024. Cell [3] shows a mean discount of "
    "0.25 and a median basket of 12.4. Half of the orders were returned (50 %); the top "
    "region of the 4 is North with 412 orders, 31.5 % of the total, and the average "
    "basket across regions is about 12.41."
)
QUESTION = "How many orders are there, and which region leads?"

CHART = """\
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(0)
x = np.arange(120)
fig, ax = plt.subplots(figsize=(10, 6), dpi=150)
for name in ("North", "South", "East", "West"):
    ax.plot(x, rng.normal(0, 1, x.size).cumsum() + 50, label=name)
ax.set_title("Orders per week by region")
ax.set_xlabel("week")
ax.set_ylabel("orders")
ax.legend()
plt.show()
"""


# -- 1. the number check ---------------------------------------------------------------------


def frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": rng.integers(10_000, 99_999, rows),
            "region": rng.choice(["North", "South", "East", "West"], rows),
            "basket": rng.gamma(2.0, 6.0, rows).round(2),
            "discount": rng.random(rows).round(4),
            "items": rng.integers(1, 20, rows),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
        }
    )


def cell_outputs(rng: np.random.Generator, index: int, budget: int) -> list[dict[str, Any]]:
    """Outputs of one cell of about `budget` characters (as JSON), as a notebook holds them."""
    if index == 3:
        return [{"output_type": "stream", "name": "stdout", "text": SUMMARY}]
    kind = index % 3

    def render(rows: int) -> list[dict[str, Any]]:
        df = frame(rng, rows)
        if kind == 0:  # print(df)
            return [{"output_type": "stream", "name": "stdout", "text": df.to_string() + "\n"}]
        if kind == 1:  # print(df.describe()) and per-group statistics, one group per 4 rows
            groups = df.assign(group=np.arange(rows) % max(1, rows // 4)).groupby("group")
            stats = groups[["basket", "discount", "items"]].agg(["count", "mean", "std", "min", "median", "max"])
            text = df.describe().to_string() + "\n\n" + stats.to_string()
            return [{"output_type": "stream", "name": "stdout", "text": text + "\n"}]
        # df as the cell's last expression: text/plain and text/html
        data = {"text/plain": df.to_string(), "text/html": df.to_html()}
        return [{"output_type": "execute_result", "execution_count": index, "metadata": {}, "data": data}]

    rows = 64  # sizes grow about linearly with the rows: probe, scale, once more to correct
    for _ in range(2):
        rows = max(1, round(rows * budget / len(json.dumps(render(rows)))))
    return render(rows)


def sources_of(total: int) -> tuple[list[numbers.Source], int]:
    rng = np.random.default_rng(total)
    per_cell = (total - len(SUMMARY)) // (CELLS - 1)
    sources = [
        numbers.Source(count=i, code=f"df{i} = load({i})\ndf{i}", outputs=cell_outputs(rng, i, per_cell))
        for i in range(1, CELLS + 1)
    ]
    size = sum(len(json.dumps(s.outputs)) for s in sources)
    return sources, size


def baseline_scan(sources: list[numbers.Source]) -> int:
    """The cheapest look at the same outputs: all their text joined, one regex over it."""
    parts = []
    for source in sources:
        parts.append(source.code)
        for output in source.outputs:
            if "text" in output:
                parts.append(output["text"])
            for value in output.get("data", {}).values():
                parts.append(value)
    return len(re.findall(r"\d+", "\n".join(parts)))


def time_once(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def bench_numbers() -> list[tuple[int, float, float, int, int]]:
    rows = []
    for total in SIZES:
        sources, size = sources_of(total)
        result = numbers.check(ANSWER, sources, QUESTION)
        repeats = {10_000: 201, 100_000: 41, 1_000_000: 9}[total]
        ours, base = [], []
        for _ in range(repeats):  # interleaved, same loop
            ours.append(time_once(numbers.check, ANSWER, sources, QUESTION))
            base.append(time_once(baseline_scan, sources))
        rows.append((size, statistics.median(ours), statistics.median(base), result.checked, len(result.unverified)))
        if result.unverified:
            print(f"  ({size:,} bytes: unverified {[u.text for u in result.unverified]})")
    return rows


# -- 2. images -------------------------------------------------------------------------------


async def image_turn(server: Server, claude: ClaudeStandIn, notebook: str, on: bool) -> dict[str, Any]:
    await server.new_notebook(notebook)
    claude.reset()
    claude.script(ClaudeStandIn.code(CHART), ClaudeStandIn.text("The chart shows four regions."))
    events = await server.ask(notebook, "Plot orders per week by region", images_to_claude=on)
    assert events[-1].get("status") == "done", events[-3:]
    requests = [r["body"] for r in claude.requests]
    assert len(requests) == 2, len(requests)
    carrying = requests[1]  # the request whose last message holds the run_code tool_result
    tokens = _estimate_tokens(carrying.get("messages", [])) + _estimate_tokens(carrying.get("system", ""))
    usage = [e for e in events if e["type"] == "usage"][-1]
    drawn = next(
        o["data"]["image/png"]
        for e in events
        if e["type"] == "cell" and e.get("role") == "code"
        for o in e["cell"]["outputs"]
        if "image/png" in o.get("data", {})
    )
    sent = list(_image_blocks(carrying.get("messages", [])))
    billed = usage["input_tokens"] + usage.get("cache_read_input_tokens", 0) + usage.get("cache_creation_input_tokens", 0)
    return {"tokens": tokens, "turn_tokens": billed, "png": drawn, "sent": sent}


def png_size(data: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return image.size


def pillow_decode(png: str) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(png))) as image:
        image.load()


async def bench_take(png: str) -> tuple[float, float, float]:
    """TurnImages.take, base64-decoding alone (the baseline) and base64 + Pillow decoding
    (for reading: what part of take is the decode), interleaved, medians of 15."""
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": "<Figure>"}}]
    await TurnImages(1024, 4).take(outputs)  # warm-up
    ours, base, decode = [], [], []
    for _ in range(15):
        started = time.perf_counter()
        images = await TurnImages(1024, 4).take(outputs)
        ours.append(time.perf_counter() - started)
        assert len(images.blocks) == 1
        base.append(time_once(base64.b64decode, png))
        decode.append(time_once(pillow_decode, png))
    return statistics.median(ours), statistics.median(base), statistics.median(decode)


async def bench_images() -> dict[str, Any]:
    async with kernel_chat("nbchat-bench-selfcheck-") as (server, claude, _):
        # off, on, off, on: the token counts are deterministic; the repeat shows they are.
        runs = {False: [], True: []}
        for rep, on in enumerate((False, True, False, True)):
            runs[on].append(await image_turn(server, claude, f"chart-{rep}.ipynb", on))
    take = await bench_take(runs[True][0]["png"])
    return {"runs": runs, "take": take}


# -- report ----------------------------------------------------------------------------------


async def main() -> None:
    started = time.perf_counter()
    print("1. Number check: numbers.check on a 10-number answer vs one re.findall over the same outputs")
    print(f"   answer: {ANSWER!r}\n")
    rows = bench_numbers()
    print(f"{'outputs (10 cells)':<22}{'check':>11}{'findall':>11}{'ratio':>8}{'checked':>9}{'unverified':>12}")
    for size, ours, base, checked, unverified in rows:
        print(f"{size / 1000:>17,.0f} KB{ours * 1000:>9.2f}ms{base * 1000:>9.2f}ms{ours / base:>8.2f}{checked:>9}{unverified:>12}")

    print("\n2. Images: the same chart turn with images_to_claude on and off (Claude stand-in's estimate)\n")
    result = await bench_images()
    runs = result["runs"]
    on, off = runs[True], runs[False]
    for key in ("tokens", "turn_tokens"):
        assert len({r[key] for r in on}) == 1 and len({r[key] for r in off}) == 1, (key, on, off)
    drawn = png_size(on[0]["png"])
    sent = [png_size(b["source"]["data"]) for b in on[0]["sent"]]
    assert len(sent) == 1 and not off[0]["sent"], (sent, off[0]["sent"])
    t_on, t_off = on[0]["tokens"], off[0]["tokens"]
    u_on, u_off = on[0]["turn_tokens"], off[0]["turn_tokens"]
    print(f"{'':<48}{'on':>9}{'off':>9}{'ratio':>8}")
    print(f"{'input tokens, request with the tool result':<48}{t_on:>9,}{t_off:>9,}{t_on / t_off:>8.2f}")
    print(f"{'input tokens, whole turn (usage event)':<48}{u_on:>9,}{u_off:>9,}{u_on / u_off:>8.2f}")
    print(f"{'image, as drawn -> as sent':<48}{drawn[0]}×{drawn[1]} -> {sent[0][0]}×{sent[0][1]} px "
          f"(long side ≤ 1024: {max(sent[0]) <= 1024}); {sent[0][0] * sent[0][1] // 750:,} tokens at w×h/750")
    print(f"{'PNG bytes, as drawn -> as sent':<48}{len(base64.b64decode(on[0]['png'])):,} -> "
          f"{len(base64.b64decode(on[0]['sent'][0]['source']['data'])):,}")
    ours, base, decode = result["take"]
    print(f"\n{'median of 15, interleaved':<48}{'ours':>10}{'baseline':>10}{'ratio':>8}")
    print(f"{'TurnImages.take vs base64-decoding the PNG':<48}{ours * 1000:>8.2f}ms{base * 1000:>8.3f}ms{ours / base:>8.0f}")
    print(f"{'  (base64 + Pillow decode alone vs base64)':<48}{decode * 1000:>8.2f}ms{base * 1000:>8.3f}ms{decode / base:>8.0f}")
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
