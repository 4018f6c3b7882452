"""The sub-tables of agentkit.toml: ``[mcp_servers.NAME]`` (with its per-tool
overrides), ``[[hooks]]`` and ``[steering]``, each a pydantic model that
:class:`agentkit.config.Settings` holds as one field. They live apart from
``Settings`` because each describes one feature's own options and is read by
that feature (tools/mcp.py, agentkit.hooks, agentkit.steering), while
config.py keeps the flat settings and how they are loaded; config.py
re-exports every name here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# --- tools: one MCP server entry (used by Settings.mcp_servers) -----------------
ToolPolicy = Literal["allow", "ask", "deny"]
ToolSideEffect = Literal["read", "write", "exec", "network"]


class McpToolOverride(BaseModel):
    """Per-tool policy/side effects for one tool of an MCP server."""

    model_config = ConfigDict(extra="forbid")
    policy: ToolPolicy | None = Field(None, description="allow, ask or deny for this tool.")
    side_effects: list[ToolSideEffect] | None = Field(
        None, description="Declared side effects (default: the server's, else exec)."
    )
    trusted: bool | None = Field(
        None, description="Trust this tool's results (default: the server's setting)."
    )


class McpServerConfig(BaseModel):
    """One MCP server: ``[mcp_servers.NAME]`` in agentkit.toml."""

    model_config = ConfigDict(extra="forbid")
    transport: Literal["stdio", "streamable_http"] = Field(
        "stdio", description="stdio (spawn command) or streamable_http (connect to url)."
    )
    command: str | None = Field(None, description="stdio: executable to start.")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] | None = Field(
        None, description="stdio: extra environment (default: a minimal safe set)."
    )
    cwd: Path | None = Field(None, description="stdio: working directory.")
    url: str | None = Field(None, description="streamable_http: server URL.")
    headers: dict[str, str] | None = Field(None, description="streamable_http: HTTP headers.")
    policy: ToolPolicy | None = Field(
        None, description="Default policy for every tool of this server (default: ask)."
    )
    side_effects: list[ToolSideEffect] | None = Field(
        None, description="Side effects of every tool of this server (default: exec)."
    )
    tools: dict[str, McpToolOverride] = Field(
        default_factory=dict, description="Per-tool overrides, keyed by the MCP tool name."
    )
    prefix: bool = Field(
        True, description="Name tools '<server>_<tool>' so they cannot shadow built-ins."
    )
    trusted: bool = Field(
        False,
        description="Treat this server's results as trusted content (default: untrusted, so "
        "calls that copy text from them ask).",
    )


# --- hooks: one [[hooks]] entry (used by Settings.hooks; see agentkit.hooks) ------
HookEventName = Literal["before_tool", "after_tool", "approval_request", "run_end"]
PermissionMode = Literal["default", "accept-edits", "plan", "dont-ask"]


class HookConfig(BaseModel):
    """One ``[[hooks]]`` table: a command run with the call as JSON on stdin."""

    model_config = ConfigDict(extra="forbid")
    event: HookEventName = Field(
        "before_tool",
        description="before_tool, after_tool, approval_request or run_end.",
    )
    command: str | list[str] = Field(
        description="A shell command line (run by /bin/sh), or an argv list."
    )
    name: str | None = Field(None, description="Shown in events and the audit (default: command).")
    tools: list[str] = Field(
        default_factory=list, description="Only calls of these tools (globs); empty = any."
    )
    side_effects: list[ToolSideEffect] = Field(
        default_factory=list, description="Only calls of tools with one of these side effects."
    )
    timeout_s: float = Field(10.0, gt=0, description="Killed after this long: an error.")


class SteeringSettings(BaseModel):
    """``[steering]``: small-model steering (agentkit.steering). Off for
    capable models, which get the framework without these workarounds."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["auto", "on", "tuned", "off"] = Field(
        "auto",
        description="auto: on for small in-process models (under 2B parameters, read from the "
        "model actually loaded), with the tuned preset when an agentkit adapter is loaded, off "
        "for others; on (every technique as set below) / tuned (the preset for tuned models) / "
        "off: always.",
    )
    tool_routing: bool = Field(True, description="Offer only the tools closest to the task.")
    routing_top_k: int = Field(4, ge=1, description="How many tools routing offers.")
    worked_examples: bool = Field(True, description="Show a worked example per offered tool.")
    example_style: Literal["episodes", "choices"] = Field(
        "episodes",
        description="Worked examples as whole episodes (request, call, result, answer) or as "
        "request -> tool lines.",
    )
    grounded_arguments: bool = Field(
        True,
        description="Arguments may only take grounded values (paths that exist or that the "
        "task names, keys of the named file, URLs and commands the task writes).",
    )
    content_grounding: bool = Field(
        True,
        description="With grounded_arguments, also the text of arguments: search phrases of "
        "the task, calculator spans, facts to remember (what an edit replaces is always a "
        "line or word of the named file).",
    )
    answer_grounding: bool = Field(
        True,
        description="With grounded_arguments, an answer that miscopies the result of a tool "
        "that only reads is decoded again as a span of it (a line, a key's value, a JSON "
        "value, a cited line, or yes/no for a yes/no question).",
    )
    computed_answers: bool = Field(
        True,
        description="With grounded_arguments, a task that names no file and reads nothing "
        "and asks for a text operation (upper/lower case, reverse, sort, smallest/largest, "
        "count words/items/letters, first/last word; an embedding classifier says which) is "
        "answered with one of that operation's results over the task's words "
        "(agentkit.steering.text_operations).",
    )
    line_places: bool = Field(
        True,
        description="With grounded_arguments, a question that asks for the end of the one "
        "file it names (an embedding classifier says so) reads that file's last line "
        "(agentkit.steering.line_places).",
    )
    named_file_first: bool = Field(
        True,
        description="With grounded_arguments, the first step of a task that names an existing "
        "file leans (a logit bias) away from the tools that cannot act on it and from "
        "answering unread.",
    )
    new_file_first: bool = Field(
        True,
        description="With grounded_arguments, the first step of a task that asks for a "
        "change and names files, none of which exists yet, leans (a logit bias) away from "
        "the tools that only read an existing file: the other files in the workspace are "
        "not what it is about.",
    )
    append_unnamed_replacements: bool = Field(
        True,
        description="With grounded_arguments, an edit_file call that would put the task's "
        "words in place of one word the task never names (and does not resemble) is decoded "
        "again as an append of the same text (agentkit.steering.appends).",
    )
    echoed_names: bool = Field(
        True,
        description="With grounded_arguments, a write_file call whose content names the "
        "file it writes (the task's instruction copied, not quoted as text to write) is "
        "decoded again with the path kept, other content, and the echoed words penalised "
        "(agentkit.steering.echoes).",
    )
    insert_places: bool = Field(
        True,
        description="With grounded_arguments, an edit_file call that adds lines (an append, "
        "or lines put beside a line it keeps) on a request for a change is decoded again "
        "with those lines where the task puts them: the top, after or before that line, or "
        "the end (an embedding classifier says where; agentkit.steering.insert_places).",
    )
    set_fields: bool = Field(
        True,
        description="With grounded_arguments, a change that names a key of a structured "
        "file it names leans (a logit bias) to set_field on the first step, and an edit_file "
        "call that writes a value after a key's name is decoded again as set_field on that "
        "key (agentkit.steering.field_edits).",
    )
    typed_retries: bool = Field(
        True,
        description="With grounded_arguments, an edit_file call refused because its old "
        "text occurs more than once is proposed again with replace_all set, when the model "
        "gives up instead (agentkit.steering.retries); it is approved like any edit.",
    )
    sources_first: bool = Field(
        True,
        description="With grounded_arguments, in a task that names existing files and a new "
        "one, a named existing file is acted on (read) before the new file is written, and "
        "is not edited or rewritten before something is made (agentkit.steering.sources).",
    )
    rewrite_named_files: bool = Field(
        False,
        description="With grounded_arguments, a whole-file write may also replace an existing "
        'file the task names, when the task asks for a change ("Overwrite memo.txt so that it '
        "reads ...\"); off: only a new file or a destination the task names ('to F', 'into "
        "F'). On in the preset for tuned models.",
    )
    question_gate: bool = Field(
        True,
        description="A task whose every sentence asks for information (not a request put as "
        "a question) cannot call a tool that writes; the tools stay described.",
    )
    intent_classifier: bool = Field(
        True,
        description="Also tell questions from requests for a change with a classifier over "
        "the MiniLM embedding of the task (agentkit/steering/question_gate.json), for the "
        "question gate and for routing; off: the English patterns alone.",
    )
    step_routing: bool = Field(
        True,
        description="A task of several requests, or a change not made yet, leans each step to "
        "its tool (a prior, a 'Next:' cue, a required call right after a success).",
    )
    observation_cue: bool = Field(
        True, description="After each tool result, a line that makes answering the likely move."
    )
    answer_on_repeat: bool = Field(
        True,
        description="A call repeating the previous step's successful one asks for the answer.",
    )
    answer_max_chars: int = Field(
        300, ge=20, description="Cap on a small model's final answer (longer is repetition)."
    )
    copy_bias: float = Field(
        2.0,
        ge=0.0,
        le=20.0,
        description="Logit bonus in tool arguments for tokens of the task and the latest result "
        "(base models only: an instruct model copies by itself).",
    )
    avoid_bias: float = Field(
        4.0,
        ge=0.0,
        le=20.0,
        description="Logit penalty in tool arguments for words only the worked examples use.",
    )
