"""HubGateway: the JupyterHub service that holds the organisation's Claude key.

Started by the hub as a managed service (docs/deploy.md), it gets `JUPYTERHUB_API_TOKEN`,
`JUPYTERHUB_API_URL`, `JUPYTERHUB_SERVICE_URL` (where to listen) and
`JUPYTERHUB_SERVICE_PREFIX` (its routes) from the hub, and the org key as `ANTHROPIC_API_KEY`
in its own environment, which it removes from `os.environ` once read. Each user's server calls
it with that user's JupyterHub API token as its API key, so no user's server holds the org key.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import httpserver, ioloop, web
from traitlets import Dict, Enum, Float, Int, Unicode, default
from traitlets.config import Application

from .handlers import route_table
from .ledger import Ledger, period_start
from .upstream import Upstream


class HubGateway(Application):
    name = "nbchat-hub-gateway"
    description = "An Anthropic-compatible gateway for JupyterHub: per-user credentials and budgets, one org key."

    upstream_url = Unicode(
        help="The Messages API the org key is for. Default: $NBCHAT_GATEWAY_UPSTREAM, else https://api.anthropic.com."
    ).tag(config=True)

    upstream_api_key = Unicode(
        help="The organisation's Anthropic key. Default: $ANTHROPIC_API_KEY (removed from the environment once read). "
        "Never logged, never sent to a user's server."
    ).tag(config=True)

    db_path = Unicode(
        "nbchat-gateway.sqlite", help="The sqlite file that records every call of every user (the budgets' ledger)."
    ).tag(config=True)

    budget_tokens = Int(
        0, help="Tokens (input, cached input and output) each user may spend per budget_period; 0: no limit."
    ).tag(config=True)

    budgets = Dict(
        value_trait=Int(), help="Per-user budgets that replace budget_tokens, e.g. {'alice': 5_000_000}; 0: no limit."
    ).tag(config=True)

    budget_period = Enum(
        ["month", "day", "total"], "month", help="When budgets start again: each calendar month or day (UTC), or never."
    ).tag(config=True)

    request_timeout = Float(600.0, help="Seconds one call to the Messages API may take, streaming included.").tag(config=True)

    hub_auth_cache_seconds = Int(
        60, help="Seconds the hub's answer about a token is reused (a revoked token works this long at most)."
    ).tag(config=True)

    service_url = Unicode(help="Where to listen. Default: $JUPYTERHUB_SERVICE_URL.").tag(config=True)

    prefix = Unicode(help="URL prefix of the routes. Default: $JUPYTERHUB_SERVICE_PREFIX, else '/'.").tag(config=True)

    service_name = Unicode(
        help="The service's name at the hub; callers' tokens need the scope access:services!service=<it>. "
        "Default: $JUPYTERHUB_SERVICE_NAME, else nbchat-gateway."
    ).tag(config=True)

    config_file = Unicode("", help="A Python config file (c.HubGateway.… lines) to load.").tag(config=True)

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO

    aliases = {
        "config": "HubGateway.config_file",
        "upstream": "HubGateway.upstream_url",
        "db": "HubGateway.db_path",
        "budget-tokens": "HubGateway.budget_tokens",
        "budget-period": "HubGateway.budget_period",
    }

    @default("upstream_url")
    def _default_upstream(self) -> str:
        return os.environ.get("NBCHAT_GATEWAY_UPSTREAM", "https://api.anthropic.com")

    @default("upstream_api_key")
    def _default_key(self) -> str:
        return os.environ.get("ANTHROPIC_API_KEY", "")

    @default("service_url")
    def _default_service_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8890")

    @default("service_name")
    def _default_service_name(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_NAME", "nbchat-gateway")

    @default("prefix")
    def _default_prefix(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
        if not self.upstream_api_key:
            raise SystemExit("nbchat gateway: no organisation key (ANTHROPIC_API_KEY or c.HubGateway.upstream_api_key)")
        self.hub_auth = HubAuth(parent=self, cache_max_age=self.hub_auth_cache_seconds)
        if not self.hub_auth.access_scopes:  # never without a scope check
            self.hub_auth.access_scopes = {f"access:services!service={self.service_name}"}
        self.upstream = Upstream(self.upstream_url, self.upstream_api_key, request_timeout=self.request_timeout)
        self.ledger = Ledger(self.db_path)

    def budget_of(self, user: str) -> int:
        return self.budgets.get(user, self.budget_tokens)

    async def usage_of(self, user: str) -> dict[str, Any]:
        since = period_start(self.budget_period)
        spent = await self.ledger.spent(user, since)
        budget = self.budget_of(user)
        return {
            "user": user,
            "period": self.budget_period,
            "since": datetime.fromtimestamp(since, timezone.utc).isoformat(),
            **spent,
            "budget_tokens": budget,
            "remaining_tokens": max(0, budget - spent["tokens"]) if budget else None,
        }

    async def budget_refusal(self, user: str) -> str | None:
        """Why `user` may not start another call now (their budget is spent), or None.
        A call that starts under budget is let through whole, so a budget can be passed by
        at most one call's tokens."""
        budget = self.budget_of(user)
        if not budget:
            return None
        usage = await self.usage_of(user)
        if usage["tokens"] < budget:
            return None
        when = "" if self.budget_period == "total" else f" this {self.budget_period} (since {usage['since'][:10]})"
        return (
            f"Your Claude budget on this hub is spent: {usage['tokens']:,} of {budget:,} tokens{when}. "
            "Ask your JupyterHub administrator to raise it."
        )

    def make_app(self) -> web.Application:
        prefix = url_path_join(self.prefix, "/")
        return web.Application(route_table(prefix, self), log_function=self._log_request)

    def _log_request(self, handler: web.RequestHandler) -> None:
        # One line per request, never a header (the tokens are there).
        self.log.info("%d %s %s (%s) %.0f ms", handler.get_status(), handler.request.method,
                      handler.request.path, getattr(handler, "user", None) or "-", 1000 * handler.request.request_time())  # fmt: skip

    def start(self) -> None:
        loop = ioloop.IOLoop.current()
        loop.run_sync(self.ledger.open)
        url = urlparse(self.service_url)
        server = httpserver.HTTPServer(self.make_app(), idle_connection_timeout=3600)
        server.listen(url.port or 80, url.hostname or "127.0.0.1")
        self.log.info("nbchat gateway on %s%s -> %s (budget per user per %s: %s tokens, %d set per user; ledger %s)",
                      self.service_url, self.prefix, self.upstream_url, self.budget_period,
                      self.budget_tokens or "no limit", len(self.budgets), self.db_path)  # fmt: skip

        def stop(*_: Any) -> None:
            loop.add_callback_from_signal(loop.stop)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        loop.start()
        server.stop()
        loop.run_sync(self.upstream.close)
        loop.run_sync(self.ledger.close)


def main(argv: Any = None) -> None:
    app = HubGateway.instance()
    app.initialize(argv)
    os.environ.pop("ANTHROPIC_API_KEY", None)  # read into the trait; nothing this process starts inherits it
    app.start()
