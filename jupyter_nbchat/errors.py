"""All of nbchat's own exceptions, each built with the context a person needs."""

from __future__ import annotations


class NbChatError(Exception):
    """Base class: `kind` is the ErrorEvent kind shown in the panel, `status` the HTTP one."""

    kind = "internal"
    status = 400


class NoApiKeyError(NbChatError):
    kind = "no_api_key"
    status = 412

    def __init__(self) -> None:
        super().__init__(API_KEY_HELP)


class NotebookNotFound(NbChatError):
    status = 404

    def __init__(self, path: str) -> None:
        super().__init__(f"No notebook at {path!r}: save it first, then ask again.")


class TurnConflict(NbChatError):
    status = 409

    def __init__(self, path: str) -> None:
        super().__init__(f"A question is already being answered in {path!r}; wait or stop it.")


class FocusCellNotFound(NbChatError):
    status = 409

    def __init__(self, cell_id: str) -> None:
        super().__init__(
            f"The cell this question is about ({cell_id}) is no longer in the notebook: "
            "it was deleted or the notebook was reloaded. Choose the cell again."
        )


class TurnRunning(NbChatError):
    status = 409

    def __init__(self, turn_id: str) -> None:
        super().__init__(f"Turn {turn_id!r} is still running: stop it or wait for it to end, then undo it.")


class NothingToUndo(NbChatError):
    status = 404

    def __init__(self, turn_id: str) -> None:
        super().__init__(
            f"Nothing in this notebook comes from turn {turn_id!r}: it has no record of it and no cell of it."
        )


class TurnNotFound(NbChatError):
    status = 404

    def __init__(self, turn_id: str) -> None:
        super().__init__(f"No turn with id {turn_id!r} (the server may have restarted).")


class ExecutorUnavailable(NbChatError):
    kind = "execution"


class KernelDied(ExecutorUnavailable):
    def __init__(self, kernel_id: str) -> None:
        super().__init__(
            f"The notebook's kernel ({kernel_id}) died while running the cell; "
            "it will be restarted on the next question."
        )
        self.kernel_id = kernel_id


class VerificationConflict(NbChatError):
    status = 409

    def __init__(self, path: str) -> None:
        super().__init__(f"{path!r} is already being verified; wait for it or stop it first.")


class VerificationNotFound(NbChatError):
    status = 404

    def __init__(self, verify_id: str) -> None:
        super().__init__(f"No verification with id {verify_id!r} (the server may have restarted).")


class PolicyRefused(NbChatError):
    """A request the administrator's policy does not allow (NbChat.allowed_models,
    allowed_executors, force_review); the message is the policy's own sentence."""

    kind = "policy"
    status = 403


class TokenCapReached(NbChatError):
    """The turn would pass NbChat.max_tokens_per_turn: it stops before the next Messages
    API call; the cells that ran stay in the notebook."""

    kind = "policy"

    def __init__(self, cap: int, spent: int, *, cut_short: bool = False) -> None:
        why = "Claude's reply was cut short at it" if cut_short else "the next request to Claude would pass it"
        super().__init__(
            f"This question stopped after {spent:,} tokens: the administrator caps a question at "
            f"{cap:,} tokens (input and output), and {why}. "
            "The cells that ran are kept; ask a narrower follow-up question to go on."
        )
        self.cap = cap
        self.spent = spent


API_KEY_HELP = (
    "No Anthropic API key is set on the server. Stop JupyterLab, run "
    "`export ANTHROPIC_API_KEY=sk-ant-...` in the same terminal (or set "
    "`c.NbChat.anthropic_api_key` in jupyter_server_config.py), and start it again."
)
