"""Routes of the gateway, under the service's prefix (`/services/<name>/`).

Each request is authenticated with the caller's own JupyterHub API token (sent by the SDK as
`x-api-key`, or `Authorization: Bearer`), checked by the hub (HubAuth, cached), and must carry
the scope to use this service. Errors have the Messages API's shape, so the SDK and the chat
show them as they would show Anthropic's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tornado import web

if TYPE_CHECKING:
    from .app import HubGateway


class GatewayHandler(web.RequestHandler):
    def initialize(self, gateway: HubGateway) -> None:
        self.gateway = gateway
        self.user: str | None = None

    def check_xsrf_cookie(self) -> None:  # token auth only; no cookies are read
        return

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        kinds = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error"}
        self.anthropic_error(status_code, kinds.get(status_code, "api_error"), self._reason)

    def anthropic_error(self, status: int, kind: str, message: str) -> None:
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"type": "error", "error": {"type": kind, "message": message}}))

    def _token(self) -> str:
        token = self.request.headers.get("x-api-key", "")
        scheme, _, value = self.request.headers.get("Authorization", "").partition(" ")
        if not token and scheme.lower() in ("bearer", "token"):
            token = value.strip()
        return token

    async def prepare(self) -> None:
        """Who calls: the owner of the token, if the hub knows it and it may use this service."""
        token = self._token()
        if not token:
            return self.anthropic_error(401, "authentication_error", "No credential: send your JupyterHub API token as the API key.")
        hub_auth = self.gateway.hub_auth
        try:
            model = await hub_auth.user_for_token(token, sync=False)
        except Exception:
            self.gateway.log.exception("The hub could not check a token")
            self.set_header("x-should-retry", "true")
            return self.anthropic_error(503, "api_error", "The gateway could not reach JupyterHub to check the credential.")
        if not model or model.get("kind", "user") != "user":
            return self.anthropic_error(401, "authentication_error", "This credential is not a JupyterHub user's token.")
        if not hub_auth.check_scopes(hub_auth.access_scopes, model):
            return self.anthropic_error(403, "permission_error", f"User {model['name']!r} may not use the Claude gateway (scope {sorted(hub_auth.access_scopes)[0]}).")
        self.user = model["name"]


class MessagesHandler(GatewayHandler):
    """POST v1/messages (counted against the caller's budget) and v1/messages/count_tokens."""

    async def post(self, suffix: str | None = None) -> None:
        assert self.user is not None
        suffix = suffix or ""  # an optional group that did not match comes as None
        counted = suffix == ""
        if counted:
            refusal = await self.gateway.budget_refusal(self.user)
            if refusal is not None:
                return self.anthropic_error(403, "permission_error", refusal)
        usage = await self.gateway.upstream.forward(self, f"v1/messages{suffix}")
        if counted and usage is not None:
            await self.gateway.ledger.record(self.user, usage, self.get_status())
            self.gateway.log.info("%s: %s, %d tokens (HTTP %d)", self.user, usage.model or "?", usage.total, self.get_status())


class ModelsHandler(GatewayHandler):
    """GET v1/models and v1/models/{id}: the Models API, free of charge."""

    async def get(self, suffix: str | None = None) -> None:
        await self.gateway.upstream.forward(self, f"v1/models{suffix or ''}")


class UsageHandler(GatewayHandler):
    """GET usage: the caller's own spending in the current budget period."""

    async def get(self) -> None:
        assert self.user is not None
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(await self.gateway.usage_of(self.user)))


def route_table(prefix: str, gateway: HubGateway) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"gateway": gateway}
    return [
        (rf"{prefix}v1/messages(/count_tokens)?", MessagesHandler, args),
        (rf"{prefix}v1/models(/[^/]+)?", ModelsHandler, args),
        (rf"{prefix}usage", UsageHandler, args),
    ]
