"""The server extension: configuration (traitlets), services and routes."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, default

from . import __version__
from .datafiles import tasks
from .errors import PolicyRefused
from .handlers import route_table
from .llm.models import newest_sonnet
from .models import Policy
from .record import read_record
from .turn_registry import TurnRegistry
from .verify import Verifications


class NbChat(ExtensionApp):
    """Chat with Claude about data, with the analysis landing in real notebooks."""

    name = "jupyter_nbchat"
    load_other_extensions = True

    model = Unicode(
        help="Claude model id. Default: the newest Sonnet the installed anthropic SDK lists."
    ).tag(config=True)

    executor = Enum(
        ["kernel", "e2b"],
        help="Where generated cells run by default: 'e2b' (an E2B cloud sandbox; the default "
        "when E2B_API_KEY is set) or 'kernel' (the notebook's own Jupyter kernel).",
    ).tag(config=True)

    e2b_api_key = Unicode(
        help="E2B API key. Default: $E2B_API_KEY. Stays on the server, never logged."
    ).tag(config=True)

    e2b_template = Unicode(
        "", help="E2B sandbox template; empty: the SDK's default code-interpreter template."
    ).tag(config=True)

    e2b_idle_timeout = Float(
        1800.0, help="Seconds an unused E2B sandbox lives on; every use extends it."
    ).tag(config=True)

    e2b_cleanup_interval = Float(
        300.0, help="Seconds between sweeps that close idle E2B sandboxes."
    ).tag(config=True)

    instance_id = Unicode(
        help="Names this server on the sandboxes it creates (their E2B metadata), so that on "
        "start it kills only its own orphans: sandboxes no notebook records any longer. "
        "Default: a random id kept in the Jupyter data directory."
    ).tag(config=True)

    scrub_kernel_env = Bool(
        True,
        help="Remove ANTHROPIC_API_KEY and E2B_API_KEY from the environment that kernels "
        "inherit, once read, so no cell can print them into a notebook.",
    ).tag(config=True)

    start_executor_early = Bool(
        True,
        help="Start the executor and upload files when a turn starts, overlapping Claude's "
        "generation. False waits until the first cell must run (slower; a baseline).",
    ).tag(config=True)

    max_copy_back_mb = Float(
        50.0, help="Largest file (MB) a cell may create that is copied back into the workspace."
    ).tag(config=True)

    anthropic_api_key = Unicode(
        help="Anthropic API key. Default: $ANTHROPIC_API_KEY. Stays on the server, never logged."
    ).tag(config=True)

    anthropic_base_url = Unicode(
        help="Messages API base URL (an Anthropic-compatible gateway). Default: $ANTHROPIC_BASE_URL."
    ).tag(config=True)

    max_steps = Int(
        10, help="Most code cells Claude may run for one question before it must answer."
    ).tag(config=True)

    max_fix_attempts = Int(
        3, help="Most attempts Claude gets to fix a failing cell before it must explain."
    ).tag(config=True)

    max_tokens = Int(8192, help="max_tokens for each Messages API call.").tag(config=True)

    execution_timeout = Float(
        300.0, help="Seconds a generated cell may run before it is interrupted."
    ).tag(config=True)

    max_output_chars = Int(
        1_000_000,
        help="Most characters of printed text (stdout, stderr) kept per output of a generated "
        "cell; past it the middle is dropped and a line says how much, so a cell printing "
        "megabytes neither slows the notebook nor bloats the .ipynb.",
    ).tag(config=True)

    images_to_claude = Bool(
        True,
        help="Claude sees the images its cells draw (PNG/JPEG downscaled; SVG described in "
        "words) in the cell's tool result, so it can check a chart and fix it. Images cost "
        "input tokens (about width x height / 750 each), counted in the usage figures. A "
        "person's setting (TurnRequest.images_to_claude) wins; this is the default.",
    ).tag(config=True)

    image_max_px = Int(
        1024,
        help="Longest side, in pixels, of an image shown to Claude; larger ones are downscaled "
        "first. At most 1568 (above it the API scales images down itself).",
    ).tag(config=True)

    max_images_per_turn = Int(
        4,
        help="Most images shown to Claude in one turn; the tool result names the others.",
    ).tag(config=True)

    verify_numbers = Bool(
        True,
        help="Look every number of Claude's answer up in the turn's outputs (formats normalised, "
        "rounded to the precision shown; a number citing a cell must be in that cell). Numbers "
        "found nowhere are marked in the panel and noted in the answer cell, and Claude gets one "
        "correction round first (one more Messages API call). False: answers go unchecked.",
    ).tag(config=True)

    max_retries = Int(
        2, help="Retries (with backoff, by the anthropic SDK) on 408/409/429/5xx and network errors."
    ).tag(config=True)

    request_timeout = Float(600.0, help="Seconds before one Messages API call times out.").tag(
        config=True
    )

    unfollowed_write_delay = Float(
        10.0,
        help="Seconds a turn whose panel writes its cells (write 'browser') waits, when it ends "
        "with no panel following it, for one to (re)connect, e.g. a reloading page, before the "
        "server writes the cells into the notebook itself, so a closed tab loses nothing.",
    ).tag(config=True)

    max_upload_mb = Float(
        50.0, help="Largest data file (MB) a person may upload through the chat panel."
    ).tag(config=True)

    max_files_per_chat = Int(5, help="Most data files attached to one chat.").tag(config=True)

    context_level = Enum(
        ["headers", "schema", "sample"],
        default_value="headers",
        help="What Claude is told about attached files by default: 'headers' (names, counts, "
        "sheets), 'schema' (adds dtypes and null counts), 'sample' (adds a few rows).",
    ).tag(config=True)

    sample_rows = Int(5, help="Rows shown to Claude per table at the 'sample' level.").tag(
        config=True
    )

    # --- Server databases (databases/): named connections, never sent to the browser.

    databases = Dict(
        help="Named database connections the chat panel offers: {name: SQLAlchemy URL} or "
        "{name: {'url': ..., 'description': ...}}, e.g. {'sales': 'postgresql://analyst:pw@db/sales'}. "
        "Names: a letter, then letters, digits, '_' or '-'. URLs stay on the server; the kernel gets "
        "each as the environment variable NBCHAT_DB_<NAME>, so code there can use it as the person could.",
    ).tag(config=True)

    databases_file = Unicode(
        "",
        help="A server-side JSON file with more connections, shaped like `databases` (its names win); "
        "re-read when it changes. Keep it readable only by the server's user.",
    ).tag(config=True)

    database_statement_timeout = Float(
        10.0, help="Seconds one statement of the schema crawl (a count(*)) may run before it is stopped."
    ).tag(config=True)

    database_connect_timeout = Float(10.0, help="Seconds to wait for a database connection.").tag(config=True)

    database_max_tables = Int(
        50, help="Most tables and views per database described to Claude; the rest are counted."
    ).tag(config=True)

    database_cache_seconds = Float(
        60.0, help="Seconds a schema crawl is reused before the database is read again."
    ).tag(config=True)

    # --- Admin policy: limits a deployment sets for everyone (docs/deploy.md). The panel
    # reads them from nbchat/status (Policy) and hides what is not allowed; the server
    # refuses requests outside them (403), whatever the panel sends.

    allowed_models = List(
        Unicode(),
        help="Model ids a question may use (the person's choice, TurnRequest.model); empty: "
        "any. If `model` is not listed, the first one listed is the default (logged).",
    ).tag(config=True)

    allowed_executors = List(
        Enum(["kernel", "e2b"]),
        help="Where generated cells may run, e.g. ['e2b'] so no generated code runs on this "
        "host; empty: both. Turns, warm-up, restart, re-run, Verify and a chat's choice refuse "
        "the others. If `executor` is not listed, the first one listed is the default (logged).",
    ).tag(config=True)

    force_review = Bool(
        False,
        help="Every generated cell waits for the person's Run or Skip, whatever the person's "
        "setting; a question sent with review turned off is refused.",
    ).tag(config=True)

    max_tokens_per_turn = Int(
        0,
        help="Most tokens one question may spend (input, cached input and output, summed over "
        "its Messages API calls). Checked before each call: when the next one would pass the "
        "cap, the turn stops with a message and the cells that ran are kept. 0: no cap.",
    ).tag(config=True)

    @default("e2b_api_key")
    def _default_e2b_api_key(self) -> str:
        return os.environ.get("E2B_API_KEY", "")

    @default("instance_id")
    def _default_instance_id(self) -> str:
        """Kept across restarts (a restarted server must recognise its sandboxes)."""
        path = Path(self.data_dir) / "jupyter_nbchat" / "instance_id"
        try:
            return path.read_text().strip() or self._new_instance_id(path)
        except OSError:
            return self._new_instance_id(path)

    @staticmethod
    def _new_instance_id(path: Path) -> str:
        value = uuid.uuid4().hex
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value)
        except OSError:  # a read-only home: the sweep then finds nothing of this server's
            pass
        return value

    @default("executor")
    def _default_executor(self) -> str:
        preferred = "e2b" if self.e2b_api_key else "kernel"
        allowed = self.allowed_executors
        return preferred if not allowed or preferred in allowed else allowed[0]

    @default("model")
    def _default_model(self) -> str:
        newest = newest_sonnet()
        allowed = self.allowed_models
        return newest if not allowed or newest in allowed else allowed[0]

    @default("anthropic_api_key")
    def _default_api_key(self) -> str:
        return os.environ.get("ANTHROPIC_API_KEY", "")

    @default("anthropic_base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("ANTHROPIC_BASE_URL", "")

    def chat_executor(self) -> str:
        """Where a chat that names no executor runs: `executor`, or the first allowed one
        when the policy does not allow it (a misconfigured default never opens what the
        policy closes)."""
        allowed = self.allowed_executors
        return self.executor if not allowed or self.executor in allowed else allowed[0]

    def chat_model(self) -> str:
        """The model of a question that names none: `model`, or the first allowed one."""
        allowed = self.allowed_models
        return self.model if not allowed or self.model in allowed else allowed[0]

    def _warn_policy_defaults(self) -> None:
        for name, value, used in (
            ("executor", self.executor, self.chat_executor()),
            ("model", self.model, self.chat_model()),
        ):
            if value != used:
                self.log.warning(
                    "nbchat: NbChat.%s %r is not allowed by the policy (NbChat.allowed_%ss); using %r",
                    name, value, name, used,
                )

    def policy(self) -> Policy:
        """The limits in force and a sentence for each, as nbchat/status sends them."""
        reasons: dict[str, str] = {}
        if self.allowed_models:
            reasons["models"] = "The administrator allows only these models: " + ", ".join(self.allowed_models) + "."
        if self.allowed_executors:
            where = " or ".join(_EXECUTOR_NAMES[name] for name in self.allowed_executors)
            reasons["executors"] = f"The administrator lets generated code run only in {where}."
        if self.force_review:
            reasons["review"] = (
                "The administrator requires every generated cell to wait for your Run or Skip before it runs."
            )
        if self.max_tokens_per_turn > 0:
            reasons["tokens"] = (
                f"The administrator caps each question at {self.max_tokens_per_turn:,} tokens (input and "
                "output); a question that would pass it stops, and the cells that ran are kept."
            )
        return Policy(
            allowed_models=list(self.allowed_models),
            allowed_executors=list(self.allowed_executors),
            force_review=self.force_review,
            max_tokens_per_turn=max(0, self.max_tokens_per_turn),
            reasons=reasons,
        )

    def check_policy(self, *, model: str | None = None, executor: str | None = None, review: bool | None = None) -> None:
        """PolicyRefused (403, with the policy's sentence) when a request asks for what the
        administrator does not allow: a model or executor outside the lists, review off."""
        policy = self.policy()
        if model is not None and self.allowed_models and model not in self.allowed_models:
            raise PolicyRefused(f"Model {model!r} is not allowed here. {policy.reasons['models']}")
        if executor is not None and self.allowed_executors and executor not in self.allowed_executors:
            raise PolicyRefused(
                f"Code may not run in {_EXECUTOR_NAMES.get(executor, executor)} here. {policy.reasons['executors']}"
            )
        if review is False and self.force_review:
            raise PolicyRefused(f"Review cannot be turned off here. {policy.reasons['review']}")

    def verify_executor(self, requested: str | None, record: Any) -> str | None:
        """Where "Verify notebook" may run under allowed_executors: the one requested
        (PolicyRefused if not allowed); unnamed, the chat's recorded choice when allowed, else
        the default. Without the limit: as requested (verify.py then decides)."""
        self.check_policy(executor=requested)
        if requested is not None or not self.allowed_executors:
            return requested
        chosen = read_record(record).get("executor") if isinstance(record, dict) else None
        return chosen if chosen in self.allowed_executors else self.chat_executor()

    def initialize_settings(self) -> None:
        self._warn_policy_defaults()
        if self.scrub_kernel_env:
            # Read the keys into their traits first (their defaults come from the environment).
            _ = (self.anthropic_api_key, self.e2b_api_key)
            for name in ("ANTHROPIC_API_KEY", "E2B_API_KEY"):
                os.environ.pop(name, None)
        self.turns = TurnRegistry(app=self, serverapp=self.serverapp, log=self.log)
        self.turns.start_sweeper(self.e2b_cleanup_interval)
        if self.e2b_api_key:
            IOLoop.current().add_callback(self.turns.kill_orphans)
        self.verifications = Verifications(app=self, serverapp=self.serverapp, turns=self.turns, log=self.log)
        self.settings["nbchat"] = self
        self.log.info(
            "nbchat %s: model %s, executor %s, API key %s, policy limits: %s",
            __version__,
            self.chat_model(),
            self.chat_executor(),
            "set" if self.anthropic_api_key else "missing",
            ", ".join(self.policy().reasons) or "none",
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def stop_extension(self) -> None:
        await self.verifications.close()
        await self.turns.close()
        if getattr(self, "datafiles", None) is not None:
            tasks.disable()  # stop the extraction worker processes


#: How a policy sentence names an executor.
_EXECUTOR_NAMES = {"kernel": "the notebook's kernel (on this server)", "e2b": "an E2B cloud sandbox"}
