"""What "always allow" covers, said before the human picks it.

An always-allow from an approval is a rule on one tool with one pattern, and
:func:`always_options` lists the patterns a call offers, narrowest first,
each with its exact meaning in words:

- a call with a path argument: this path only, the files directly in its
  directory (``notes/*``), everything below it (``notes/**``); a call with
  several (copy_file's source and destination): the same scopes for every
  one of them, all of which the rule then requires;
- a shell-like call with a command: this exact command line only, or the
  same command on any file directly in the same directory (``cat notes/*``);
- a call with neither: every call of the tool.

Command patterns from "always" match a whole command word by word
(:func:`command_matches`): the words must be the same in number, a glob word
only matches a relative path that stays inside the directory it names after
``.`` and ``..`` are collapsed, and a command that chains, pipes, redirects
or substitutes (``;`` ``&`` ``|`` ``>`` ``<`` `` ` `` ``$(``) never matches.
So an always-allow for ``cat notes/*`` allows ``cat notes/a.md`` and never
``cat notes/../../x``, ``cat notes/a.md /etc/passwd`` or ``cat a; rm b``.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool

from agentkit.approvals.commands import GLOB, SHELL_CONTROL, command_matches, normalise, split_words
from agentkit.approvals.rules import COMMAND_ARGS, PATH_ARGS
from agentkit.errors import AgentkitError
from agentkit.events import AlwaysOption, ApprovalRequest, Approve, Decision
from agentkit.tools.base import targets_of

__all__ = ["always_options", "check_always", "command_matches", "pattern_rule"]


def _command(args: Mapping[str, Any]) -> tuple[str, str] | None:
    for name in COMMAND_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value.strip():
            return name, value.strip()
    return None


def _path(args: Mapping[str, Any]) -> tuple[str, str] | None:
    for name in PATH_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value.strip():
            return name, value.strip()
    return None


def _all_paths(tool: BaseTool | None, args: Mapping[str, Any]) -> list[str]:
    """Every path the call names, where the tool says it leads (relative to
    its workspace: copy_file into a folder writes ``archive/report.md``)."""
    found = targets_of(tool, args) if tool is not None else None
    paths = [t.lexical or t.written for t in found or () if t.arg in PATH_ARGS]
    if not paths:
        paths = [v.strip() for n in PATH_ARGS if isinstance(v := args.get(n), str) and v.strip()]
    return list(dict.fromkeys(paths))


def _multi_path_scopes(name: str, paths: list[str]) -> list[tuple[AlwaysOption, list[str]]]:
    """Options for a call with several paths, each with the globs its rule
    holds (an allow rule needs every path to match one of them)."""
    exact = [normalise(p) for p in paths]
    if any(e is None for e in exact):  # outside the workspace: this call only
        only = AlwaysOption(pattern=", ".join(paths), label=f"{name} on {' and '.join(paths)} only")
        return [(only, paths)]
    kept = [e for e in exact if e is not None]
    dirs = list(dict.fromkeys(posixpath.dirname(e) for e in kept))
    places = " or ".join(f"{d}/" if d else "the top of the workspace" for d in dirs)
    scopes = [
        (kept, f"{name} on {' and '.join(kept)} only"),
        ([f"{d}/*" if d else "*" for d in dirs], f"{name} with every path directly in {places}"),
    ]
    if all(dirs):
        scopes.append(
            ([f"{d}/**" for d in dirs], f"{name} with every path anywhere below {places}")
        )
    return [(AlwaysOption(pattern=", ".join(g), label=label), g) for g, label in scopes]


def always_options(tool: BaseTool, args: Mapping[str, Any]) -> list[AlwaysOption]:
    """The scopes "always allow" can take for this call, narrowest first."""
    name = tool.name
    paths = _all_paths(tool, args)
    if len(paths) > 1 and _command(args) is None:
        return [option for option, _globs in _multi_path_scopes(name, paths)]
    command = _command(args)
    if command is not None:
        line = command[1]
        options = [AlwaysOption(pattern=line, label=f"{name}: exactly the command `{line}`")]
        words = split_words(line)
        if words and len(words) > 1 and not SHELL_CONTROL.search(line):
            last = normalise(words[-1])
            if last is not None and "/" in last and not GLOB.search(words[-1]):
                directory = posixpath.dirname(last)
                pattern = shlex.join(words[:-1]) + f" {directory}/*"
                options.append(
                    AlwaysOption(
                        pattern=pattern,
                        label=f"{name}: `{pattern}`, i.e. `{shlex.join(words[:-1])}` on one file "
                        f"directly in {directory}/ (no other arguments, no `..`, no chained commands)",
                    )
                )
        return options
    path = _path(args)
    if path is not None:
        exact = normalise(path[1])
        if exact is None:  # outside the workspace: only this call, and the policy still applies
            return [AlwaysOption(pattern=path[1], label=f"{name} on {path[1]} only")]
        options = [AlwaysOption(pattern=exact, label=f"{name} on {exact} only")]
        directory = posixpath.dirname(exact)
        if directory:
            options.append(
                AlwaysOption(
                    pattern=f"{directory}/*", label=f"{name} on files directly in {directory}/"
                )
            )
            options.append(
                AlwaysOption(
                    pattern=f"{directory}/**", label=f"{name} on anything below {directory}/"
                )
            )
        else:
            options.append(
                AlwaysOption(pattern="*", label=f"{name} on files at the top of the workspace")
            )
        return options
    return [AlwaysOption(pattern="", label=f"every {name} call, whatever its arguments")]


def pattern_rule(
    args: Mapping[str, Any], pattern: str | None = None, tool: BaseTool | None = None
) -> dict[str, list[str]]:
    """The rule arguments (``paths`` / ``command_prefixes``) of an always-allow
    with ``pattern`` (None: the exact call) for a call of ``tool`` with ``args``."""
    paths = _all_paths(tool, args)
    if len(paths) > 1 and _command(args) is None:
        scopes = _multi_path_scopes(tool.name if tool is not None else "", paths)
        chosen = next((g for o, g in scopes if o["pattern"] == pattern), None)
        return {"paths": chosen or (scopes[0][1] if pattern is None else [pattern])}
    command = _command(args)
    if command is not None:
        return {"command_prefixes": [pattern or command[1]]}
    path = _path(args)
    if path is not None:
        return {"paths": [pattern or normalise(path[1]) or path[1]]}
    return {}


def check_always(requests: Sequence[ApprovalRequest], decisions: Sequence[Decision]) -> None:
    """An ``always_pattern`` must be one of the scopes its request offered
    (the human picked from what they were shown)."""
    by_id = {r.call_id: r for r in requests}
    for decision in decisions:
        if not isinstance(decision, Approve) or decision.always_pattern is None:
            continue
        request = by_id.get(decision.call_id)
        offered = [o["pattern"] for o in request.always_options] if request else []
        if decision.always_pattern not in offered:
            raise AgentkitError(
                f"always_pattern {decision.always_pattern!r} is not a scope offered for "
                f"{decision.call_id}",
                hint="offered: " + (", ".join(repr(o) for o in offered) or "none"),
            )
