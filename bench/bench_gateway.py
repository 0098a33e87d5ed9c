"""Turns through the real Enterprise Gateway, against the same turns on the local kernel.

    python bench/bench_gateway.py [--mb 20] [--repeats 3]

Two real `jupyter server`s (bench/harness.py) with the Claude stand-in: one on its local
kernel (the baseline: it shares the notebook's folder, nothing is copied), one with
`--GatewayClient.url` on Jupyter Enterprise Gateway 3.3.0 (.venv-eg, scripts/setup_gateway.sh)
whose kernels run in the gateway's own folder, so the attachment travels through the kernel
(execution/kernel_files.py). Each repeat is a new notebook (a new kernel) and two turns with
the same CSV attached: the first reads it, the second reads a variable. Printed: median turn
times side by side with their ratio, and the bytes the gateway server sent to its kernel on
the first and the second turn (from its log). Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import EnterpriseGateway, Server  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn  # noqa: E402

USER = "analyst"
SENT = re.compile(r"nbchat: sent (\S+) \((\d+) bytes\) to the kernel's folder")


def write_csv(root: Path, mb: float) -> int:
    rows = int(mb * 2**20 / 24)
    lines = ["Product Name,Gender,Price"] + [f"Shoe {i},{'men' if i % 3 else 'women'},{i % 100}" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    (root / "shoes.csv").write_bytes(data)
    return len(data)


def bytes_sent(server: Server) -> int:
    return sum(int(m.group(2)) for m in SENT.finditer(server.log.read_text()))


async def turn(server: Server, claude: ClaudeStandIn, notebook: str, code: str) -> float:
    claude.script(ClaudeStandIn.code(code), ClaudeStandIn.text("Done."))
    started = time.perf_counter()
    events = await server.ask(notebook, "Go on", attachments=["shoes.csv"])
    assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "done", events[-3:]
    cell = [e for e in events if e["type"] == "cell" and e.get("role") == "code"][0]["cell"]
    assert not [o for o in cell["outputs"] if o["output_type"] == "error"], cell["outputs"]
    return time.perf_counter() - started


async def run(name: str, server: Server, claude: ClaudeStandIn, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"first": [], "second": [], "sent1": [], "sent2": []}
    await server.ready()
    for index in range(repeats):
        notebook = f"{name}_{index}.ipynb"
        await server.new_notebook(notebook)
        sent = bytes_sent(server)
        times["first"].append(await turn(server, claude, notebook, "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nprint(len(shoes))"))
        times["sent1"].append(bytes_sent(server) - sent)
        sent = bytes_sent(server)
        times["second"].append(await turn(server, claude, notebook, "print(shoes['Price'].sum())"))
        times["sent2"].append(bytes_sent(server) - sent)
        await server.fetch(f"api/sessions/{(await session_of(server, notebook))}", "DELETE")
    return times


async def session_of(server: Server, notebook: str) -> str:
    return next(s["id"] for s in await server.fetch("api/sessions") if s["path"] == notebook)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the attached CSV")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="nbchat-bench-gateway-"))
    claude = ClaudeStandIn()
    await claude.start()
    results = {}
    for name in ("local", "gateway"):
        root = base / name / "root"
        root.mkdir(parents=True)
        size = write_csv(root, args.mb)
        config = ["c.NbChat.executor = 'kernel'", f"c.NbChat.anthropic_base_url = {claude.url!r}"]
        env = {"ANTHROPIC_API_KEY": "sk-ant-bench"}
        gateway = None
        if name == "gateway":
            home = base / name / "gateway_home"
            home.mkdir()
            gateway = EnterpriseGateway(home, USER)
            gateway.wait_ready()
            config += [f"c.GatewayClient.url = {gateway.url!r}", f"c.GatewayClient.auth_token = {gateway.token!r}",
                       "c.GatewayClient.request_timeout = 120.0"]  # fmt: skip
            env["KERNEL_USERNAME"] = USER
        server = Server(root, config, env)
        try:
            results[name] = await run(name, server, claude, args.repeats)
        finally:
            server.stop()
            if gateway is not None:
                gateway.stop()
    await claude.stop()

    local, remote = results["local"], results["gateway"]
    print(f"{args.repeats} chats of two turns, {size / 2**20:.1f} MiB CSV attached; medians\n")
    print(f"{'':<28}{'local kernel':>14}{'gateway':>14}{'ratio':>8}")
    for label, key in (("turn 1 (reads the CSV)", "first"), ("turn 2 (a variable)", "second")):
        a, b = statistics.median(local[key]), statistics.median(remote[key])
        print(f"{label:<28}{a * 1000:>11.0f} ms{b * 1000:>11.0f} ms{b / a:>7.2f}x")
    for label, key in (("bytes sent, turn 1", "sent1"), ("bytes sent, turn 2", "sent2")):
        print(f"{label:<28}{statistics.median(local[key]):>14,.0f}{statistics.median(remote[key]):>14,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
