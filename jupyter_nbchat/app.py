"""The server extension: configuration (traitlets), services and routes."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop
from traitlets import Bool, Enum, Float, Int, Unicode, default

from . import __version__
from .datafiles import tasks
from .handlers import route_table
from .llm.models import newest_sonnet
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
        return "e2b" if self.e2b_api_key else "kernel"

    @default("model")
    def _default_model(self) -> str:
        return newest_sonnet()

    @default("anthropic_api_key")
    def _default_api_key(self) -> str:
        return os.environ.get("ANTHROPIC_API_KEY", "")

    @default("anthropic_base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("ANTHROPIC_BASE_URL", "")

    def initialize_settings(self) -> None:
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
            "nbchat %s: model %s, executor %s, API key %s",
            __version__,
            self.model,
            self.executor,
            "set" if self.anthropic_api_key else "missing",
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def stop_extension(self) -> None:
        await self.verifications.close()
        await self.turns.close()
        if getattr(self, "datafiles", None) is not None:
            tasks.disable()  # stop the extraction worker processes
