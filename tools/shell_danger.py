"""Danger classification of shell commands, from a real shell parser (bashlex).

Levels, lowest to highest:

- ``safe``: only known read-only commands, reading inside the workspace.
- ``unknown``: commands we do not know, writes inside the workspace, code run
  by an interpreter, hidden commands (``$(...)``, backticks) whose parts are
  themselves no worse.
- ``dangerous``: network, package installs, privilege (sudo), printing the
  environment, reading secrets, killing processes, or a command the parser
  cannot read.
- ``destructive``: deletes or overwrites data (rm, dd, mkfs, shred, find
  -delete, git reset --hard, ...), writes outside the workspace, or pipes
  text into a shell or interpreter (``curl x | sh``).

Every command in a list, pipeline, substitution, loop or function body is
classified and the worst level wins. The policy layer never auto-allows a
``destructive`` command through a prefix rule.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bashlex
import bashlex.errors

from agentkit.tools.base import DangerLevel
from agentkit.tools.shell_commands import (
    DESTRUCTIVE_COMMANDS,
    ENV_DUMPERS,
    EXEC_VARIABLES,
    GIT_EXEC_KEYS,
    GIT_NETWORK,
    GIT_SAFE,
    INSTALL_VERBS,
    INTERPRETERS,
    LEVELS,
    NETWORK_COMMANDS,
    PACKAGE_MANAGERS,
    PRIVILEGE_COMMANDS,
    PROCESS_KILLERS,
    SAFE_COMMANDS,
    SAFE_DEVICES,
    SECRET_PATTERNS,
    SHELLS,
    WRAPPERS,
    WRITE_COMMANDS,
)


@dataclass
class ShellAssessment:
    """The worst level found and why; ``writes`` are the paths the command
    writes, as written (redirections, cp/mv/tee/... destinations, git config)."""

    level: DangerLevel = "safe"
    reasons: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def raise_to(self, level: DangerLevel, reason: str) -> None:
        if LEVELS.index(level) > LEVELS.index(self.level):
            self.level = level
        if level != "safe" and reason not in self.reasons:
            self.reasons.append(reason)


def classify(command: str, workspace: Path | None = None) -> ShellAssessment:
    """Classify ``command`` as bash would parse it."""
    result = ShellAssessment()
    if not command.strip():
        return result
    try:
        trees = bashlex.parse(command)
    except (
        bashlex.errors.ParsingError,
        NotImplementedError,
        IndexError,
        AttributeError,
        TypeError,
    ) as err:
        result.raise_to(
            "dangerous",
            f"the shell parser cannot read it ({type(err).__name__}); treated as dangerous",
        )
        _fallback_scan(command, result)
        return result
    _Classifier(result, workspace).visit_all(trees)
    return result


def _fallback_scan(command: str, result: ShellAssessment) -> None:
    words = set(re.findall(r"[\w.\-/]+", command))
    if {os.path.basename(w) for w in words} & DESTRUCTIVE_COMMANDS:
        result.raise_to("destructive", "mentions a destructive command")
    if re.search(r"\|\s*(sudo\s+)?(" + "|".join(sorted(INTERPRETERS)) + r")\b", command):
        result.raise_to("destructive", "pipes into a shell or interpreter")


class _Classifier:
    def __init__(self, result: ShellAssessment, workspace: Path | None) -> None:
        self.result = result
        self.root = workspace.resolve() if workspace is not None else None

    # --- tree walking ---------------------------------------------------------
    def visit_all(self, nodes: list[Any]) -> None:
        for node in nodes:
            self.visit(node)

    def visit(self, node: Any) -> None:
        kind = getattr(node, "kind", "")
        if kind == "command":
            self.command(node)
        elif kind == "pipeline":
            self.pipeline(node)
        elif kind == "function":
            self.result.raise_to("dangerous", "defines a shell function")
            self._children(node)
        elif kind == "operator" and getattr(node, "op", "") == "&":
            self.result.raise_to("unknown", "runs a command in the background")
        elif kind in ("commandsubstitution", "processsubstitution"):
            self.result.raise_to("unknown", "runs a hidden command ($(...), backticks or <(...))")
            self.visit(node.command)
        else:
            self._children(node)

    def _children(self, node: Any) -> None:
        for attr in ("parts", "list"):
            for child in getattr(node, attr, None) or []:
                self.visit(child)
        for attr in ("command",):
            child = getattr(node, attr, None)
            if child is not None and hasattr(child, "kind"):
                self.visit(child)

    def _nested(self, word: Any) -> None:
        """Substitutions inside a word."""
        for part in getattr(word, "parts", None) or []:
            if part.kind in ("commandsubstitution", "processsubstitution"):
                self.visit(part)
            else:
                self._nested(part)

    def pipeline(self, node: Any) -> None:
        commands = [p for p in node.parts if p.kind != "pipe"]
        for position, cmd in enumerate(commands):
            self.visit(cmd)
            if position > 0 and cmd.kind == "command":
                argv = _argv(cmd)
                while argv and (
                    argv[0] in PRIVILEGE_COMMANDS or argv[0] in WRAPPERS or argv[0] == "env"
                ):
                    argv = argv[1:]
                name = os.path.basename(argv[0]) if argv else ""
                if name in INTERPRETERS and not any(
                    a.startswith("-c") or a.endswith((".py", ".sh")) for a in argv[1:]
                ):
                    self.result.raise_to(
                        "destructive", f"pipes text into {name} (runs unseen code)"
                    )
                if name == "xargs":
                    self.result.raise_to("unknown", "runs commands built from its input (xargs)")

    # --- one simple command -----------------------------------------------------
    def command(self, node: Any) -> None:
        for part in node.parts:
            if part.kind == "assignment":
                name = part.word.split("=", 1)[0].rstrip("+")
                if name in EXEC_VARIABLES or name.startswith("GIT_CONFIG_"):
                    self.result.raise_to("dangerous", f"changes {name}")
                self._nested(part)
            elif part.kind == "word":
                self._nested(part)
            elif part.kind == "redirect":
                self.redirect(part)
        words = [p for p in node.parts if p.kind == "word"]
        if not words:
            return
        if any(
            p.kind in ("parameter", "commandsubstitution")
            for p in getattr(words[0], "parts", []) or []
        ):
            self.result.raise_to("unknown", "the command name is computed at run time")
        self.argv(_argv(node))

    def argv(self, argv: list[str]) -> None:
        if not argv:
            return
        name = os.path.basename(argv[0])
        args = argv[1:]
        self.result.commands.append(name)
        r = self.result
        if name in PRIVILEGE_COMMANDS:
            r.raise_to("dangerous", f"{name}: runs with elevated privileges")
            i = 0
            while i < len(args) and args[i].startswith("-"):
                i += 2 if args[i] in ("-u", "-g", "-U", "-C", "-h", "-p") else 1
            return self.argv(args[i:])
        if name in WRAPPERS:
            return self.argv(args)
        if name == "timeout":  # timeout [options] DURATION COMMAND [ARG]...
            rest = _after_options(args, takes_value=("-s", "--signal", "-k", "--kill-after"))
            return self.argv(rest[1:])
        if name == "env":
            rest = [a for a in args if not a.startswith("-") and "=" not in a]
            if not rest:
                r.raise_to("dangerous", "env: prints the environment")
                return None
            return self.argv(args[args.index(rest[0]) :])
        if name in ("set", "export", "declare", "typeset") and (
            not args or args[0] in ("-p", "-x")
        ):
            r.raise_to("dangerous", f"{name}: prints the environment")
            return None
        if name in ENV_DUMPERS:
            r.raise_to("dangerous", f"{name}: prints the environment")
            return None
        if name in ("eval", "exec", "source", "."):
            r.raise_to("unknown", f"{name}: runs code the classifier cannot see")
            if any("$(" in a or "`" in a or "<(" in a for a in args):
                r.raise_to("destructive", f"{name}: runs generated or downloaded code")
            if name in ("eval", "exec") and args:
                nested = classify(" ".join(args), self.root)
                for reason in nested.reasons:
                    r.raise_to(nested.level, reason)
            return None
        if name in SHELLS or name in INTERPRETERS:
            return self.interpreter(name, args)
        if name == "xargs":
            r.raise_to("unknown", "xargs: runs commands built from its input")
            value_options = ("-n", "-I", "-i", "-d", "-P", "-L", "-l", "-s", "-E", "-e", "-a")
            return self.argv(_after_options(args, takes_value=value_options))
        if name in DESTRUCTIVE_COMMANDS or name.startswith("mkfs"):
            r.raise_to("destructive", f"{name}: deletes or overwrites data")
            return None
        if name in NETWORK_COMMANDS:
            r.raise_to("dangerous", f"{name}: uses the network")
            self.paths(
                name,
                args,
                writes=name in ("scp", "rsync", "wget", "curl") and self._writes_file(name, args),
            )
            return None
        if name in PACKAGE_MANAGERS and args and args[0] in INSTALL_VERBS:
            r.raise_to("dangerous", f"{name} {args[0]}: installs packages from the network")
            return None
        if name in PROCESS_KILLERS:
            r.raise_to("dangerous", f"{name}: signals other processes")
            return None
        if name in ("chmod", "chown", "chgrp"):
            if any(a.startswith("-") and "R" in a for a in args) or "--recursive" in args:
                r.raise_to("destructive", f"{name} -R: changes permissions of a whole tree")
            else:
                r.raise_to("unknown", f"{name}: changes file permissions")
            self.paths(name, args, writes=True)
            return None
        if name == "git":
            return self.git(args)
        if name == "find":
            return self.find(args)
        if name == "sed" and any(a.startswith("-i") or a == "--in-place" for a in args):
            r.raise_to("unknown", "sed -i: edits files in place")
            self.paths(name, args, writes=True)
            return None
        if name == "awk" and any("system(" in a or "|" in a for a in args):
            r.raise_to("unknown", "awk: runs commands")
        if name in SAFE_COMMANDS:
            self.paths(name, args, writes=False)
            return None
        if name in WRITE_COMMANDS:
            r.raise_to("unknown", f"{name}: writes files")
            self.paths(name, args, writes=True)
            return None
        r.raise_to("unknown", f"{name}: not a known read-only command")
        self.paths(name, args, writes=False)
        return None

    def interpreter(self, name: str, args: list[str]) -> None:
        r = self.result
        if name in SHELLS and "-c" in args:
            script_index = args.index("-c") + 1
            if script_index < len(args):
                nested = classify(args[script_index], self.root)
                r.raise_to("unknown", f"{name} -c: runs a nested shell command")
                for reason in nested.reasons:
                    r.raise_to(nested.level, reason)
                return
        r.raise_to("unknown", f"{name}: runs code the classifier cannot see")
        self.paths(name, [a for a in args if not a.startswith("-")], writes=False)

    def git(self, args: list[str]) -> None:
        r = self.result
        i = 0
        while i < len(args) and args[i].startswith("-"):  # git's own options
            option = args[i]
            value = ""
            if option in ("-c", "-C", "--git-dir", "--work-tree", "--namespace", "--exec-path"):
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
            elif "=" in option:
                option, value = option.split("=", 1)
            if option == "-c" or option == "--config-env":
                key = value.split("=", 1)[0]
                if GIT_EXEC_KEYS.match(key):
                    r.raise_to("destructive", f"git -c {key}=...: makes git run a command")
                else:
                    r.raise_to("unknown", f"git -c {key}: changes git's configuration")
            elif option in ("--git-dir", "--work-tree", "--exec-path", "-C"):
                r.raise_to("unknown", f"git {option}: runs git on another repository")
            i += 1
        args = args[i:]
        sub = args[0] if args else ""
        rest = args[1:]
        if sub == "config":
            return self.git_config(rest)
        if sub == "reset" and "--hard" in rest:
            r.raise_to("destructive", "git reset --hard: discards changes")
        elif sub == "clean":
            r.raise_to("destructive", "git clean: deletes untracked files")
        elif sub in ("checkout", "restore") and ("--" in rest or "." in rest or "-f" in rest):
            r.raise_to("destructive", f"git {sub}: discards changes")
        elif sub == "push" and any(
            a in ("-f", "--force", "--force-with-lease", "--delete", "-d") or a.startswith("+")
            for a in rest
        ):
            r.raise_to("destructive", "git push --force: rewrites remote history")
        elif sub == "branch" and any(a in ("-D", "-d", "--delete") for a in rest):
            r.raise_to("destructive", "git branch -D: deletes a branch")
        elif sub == "stash" and rest[:1] and rest[0] in ("drop", "clear"):
            r.raise_to("destructive", "git stash drop/clear: deletes stashed work")
        elif sub in ("filter-branch", "filter-repo", "rebase", "gc", "prune", "reflog"):
            r.raise_to("destructive", f"git {sub}: rewrites or prunes history")
        elif sub in GIT_NETWORK:
            r.raise_to("dangerous", f"git {sub}: uses the network")
        elif sub in GIT_SAFE and not (
            sub in ("branch", "tag", "remote", "config")
            and len(rest) > 0
            and not rest[0].startswith("-l")
        ):
            pass
        else:
            r.raise_to("unknown", f"git {sub or '(no subcommand)'}: changes the repository")

    def git_config(self, rest: list[str]) -> None:
        """``git config``: reading is safe; setting a key writes .git/config
        (or the file, global or system config it names)."""
        r = self.result
        reads = {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "-l", "--list"}
        reads |= {"get", "list", "--show-origin", "--show-scope", "--name-only", "-z"}
        positional = [a for a in rest if not a.startswith("-")]
        file = next((rest[k + 1] for k, a in enumerate(rest[:-1]) if a in ("-f", "--file")), None)
        if file is not None:
            positional.remove(file)
        verbs = {"set", "unset", "rename-section", "remove-section", "edit"}
        writing = bool(verbs & set(positional[:1])) or any(
            a
            in (
                "--add",
                "--unset",
                "--unset-all",
                "--replace-all",
                "--rename-section",
                "--remove-section",
                "-e",
                "--edit",
            )
            for a in rest
        )
        if not writing and (set(rest) & reads or len(positional) <= 1):
            return
        if "--global" in rest or "--system" in rest:
            r.raise_to("destructive", "git config --global/--system: writes outside the workspace")
            return
        target = file or ".git/config"
        r.raise_to("unknown", f"git config: writes {target}")
        if file is not None:
            self.paths("git config", [file], writes=True)
        else:
            r.writes.append(target)

    def find(self, args: list[str]) -> None:
        r = self.result
        if "-delete" in args:
            r.raise_to("destructive", "find -delete: deletes files")
        for action in ("-exec", "-execdir", "-ok", "-okdir"):
            if action in args:
                start = args.index(action) + 1
                end = next(
                    (i for i in range(start, len(args)) if args[i] in (";", "\\;", "+")), len(args)
                )
                r.raise_to("unknown", f"find {action}: runs a command per file")
                self.argv(args[start:end])
        if any(a in ("-fprint", "-fprintf", "-fls") for a in args):
            r.raise_to("unknown", "find: writes files")
        roots = []
        for a in args:
            if a.startswith(("-", "(", "!", ")")):
                break
            roots.append(a)
        self.paths("find", roots, writes=False)

    # --- paths and redirections -------------------------------------------------
    def redirect(self, node: Any) -> None:
        kind = node.type
        target = node.output
        if not hasattr(target, "word"):
            return  # >&2 and friends
        self._nested(target)
        path = target.word
        if kind in ("<", "<<<", "<<", "<&"):
            self.paths("<", [path], writes=False)
        elif kind in (">", ">|", "&>", ">&"):
            if path not in SAFE_DEVICES:
                self.result.writes.append(path)
                if self.outside(path):
                    self.result.raise_to(
                        "destructive", f"redirects output over {path}, outside the workspace"
                    )
                else:
                    self.result.raise_to("unknown", f"writes {path}")
        elif kind in (">>", "&>>"):
            if path not in SAFE_DEVICES:
                self.result.writes.append(path)
                if self.outside(path):
                    self.result.raise_to("dangerous", f"appends to {path}, outside the workspace")
                else:
                    self.result.raise_to("unknown", f"appends to {path}")

    def outside(self, path: str) -> bool:
        if path.startswith("~") or path.startswith("$"):
            return True
        if self.root is None:
            return path.startswith("/") or path == ".." or path.startswith("../")
        candidate = Path(path) if path.startswith("/") else self.root / path
        if not Path(os.path.normpath(candidate)).is_relative_to(self.root):
            return True
        try:  # where it really leads: a symlink inside may point out
            return not Path(os.path.realpath(candidate)).is_relative_to(self.root)
        except (OSError, ValueError):
            return True

    def paths(self, name: str, args: list[str], *, writes: bool) -> None:
        for arg in args:
            if arg.startswith("-") or not arg or "$(" in arg or "`" in arg or "<(" in arg:
                continue  # substitutions are classified on their own
            if writes and arg not in SAFE_DEVICES:
                self.result.writes.append(arg)
            if SECRET_PATTERNS.search(arg):
                self.result.raise_to("dangerous", f"{name}: touches a secrets file ({arg})")
            elif arg in SAFE_DEVICES:
                continue
            elif self.outside(arg) and ("/" in arg or arg.startswith("~") or arg == ".."):
                if writes:
                    self.result.raise_to(
                        "destructive", f"{name}: writes outside the workspace ({arg})"
                    )
                else:
                    self.result.raise_to("unknown", f"{name}: reads outside the workspace ({arg})")

    @staticmethod
    def _writes_file(name: str, args: list[str]) -> bool:
        return name in ("scp", "rsync") or any(a in ("-o", "-O", "--output") for a in args)


def _after_options(args: list[str], takes_value: tuple[str, ...] = ()) -> list[str]:
    """``args`` from the first word that is not an option (or an option's
    value) on: the wrapped command, with its own options intact."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--":
            return args[i + 1 :]
        i += 2 if args[i] in takes_value else 1
    return args[i:]


def _argv(node: Any) -> list[str]:
    return [p.word for p in node.parts if p.kind == "word"]
