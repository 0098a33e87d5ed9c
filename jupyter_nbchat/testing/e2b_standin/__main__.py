"""Run the stand-in on its own: ``python -m jupyter_nbchat.testing.e2b_standin --port N``.

Prints the URL on the first line, then the environment to point the SDK at it;
runs until SIGINT/SIGTERM. Faults are set over HTTP (``POST /_standin/faults``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from .server import DEFAULT_API_KEY, E2BStandIn


async def _serve(args: argparse.Namespace) -> None:
    standin = E2BStandIn(host=args.host, port=args.port, api_key=args.api_key)
    url = await standin.start()
    print(url, flush=True)
    for name, value in standin.env().items():
        print(f"{name}={value}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await standin.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_nbchat.testing.e2b_standin",
        description="Local E2B stand-in backed by real kernels",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
