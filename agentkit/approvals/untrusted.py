"""Untrusted content: what the run has read from sources the user does not
control, and whether a proposed call copies text from it.

A model that reads a web page, an untrusted MCP tool's result, a document
passage or a file the task did not name may follow instructions planted
there (prompt injection). The approval policy cannot tell a hijacked call
from an honest one by its shape, but it can tell where the call's words came
from: after the run has seen untrusted content, a side-effecting call whose
arguments contain text copied from it (a URL or host, a path, a command, a
whole argument, or a long enough passage) is not auto-allowed by any rule.
It asks, and the prompt names the observation the text came from. This is
the information-flow idea of CaMeL and FIDES, in the form that fits an agent
with a human in the loop; ``docs/security.md`` measures it.

Text the user wrote (the task, their messages) is trusted even when an
untrusted observation repeats it. Data copied into a write whose destination
the user named (``save the page to notes/page.md``) is the flow the user
asked for and does not ask; copying into the destination, a URL, a command
or a memory does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.events import ContextItem
from agentkit.tools.base import untrusted_of

UntrustedMode = Literal["copied", "all", "off"]
UNTRUSTED_MODES: tuple[UntrustedMode, ...] = ("copied", "all", "off")

WINDOW = 20  # characters: a passage this long, copied verbatim, counts as copied
MIN_VALUE = 8  # a whole argument value this long counts as copied
MIN_TOKEN = 4  # a URL, host or path token this long counts as copied
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_QUOTES = {ord("\\"): None, ord("'"): '"', ord("`"): '"'}
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'<>`]+")
_TOKEN = re.compile(r"[^\s\"'`<>()|;&,]*[/.:][^\s\"'`<>()|;&,]*")


def normalise(text: str) -> str:
    """Case, width, invisible characters, escaping backslashes, the kind of
    quote and runs of white space do not hide a copy."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return " ".join(text.translate(_QUOTES).split())


@dataclass(frozen=True)
class Observation:
    """One piece of untrusted content the model has seen."""

    source: str  # how the approval prompt names it
    text: str  # normalised

    @cached_property
    def windows(self) -> frozenset[str]:
        t = self.text
        return frozenset(t[i : i + WINDOW] for i in range(max(0, len(t) - WINDOW + 1)))


@dataclass(frozen=True)
class Copy:
    """A fragment of a call's arguments found in an untrusted observation."""

    arg: str
    fragment: str
    observation: Observation

    def describe(self) -> str:
        shown = self.fragment if len(self.fragment) <= 60 else self.fragment[:57] + "..."
        return f"'{self.arg}' copies {shown!r} from untrusted content: {self.observation.source}"


@dataclass
class Provenance:
    """What the run has seen: the user's own words (``trusted``) and the
    untrusted observations, oldest first."""

    trusted: str = ""
    observations: list[Observation] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        messages: Sequence[AnyMessage],
        tools: Mapping[str, BaseTool],
        task: str = "",
        context: Iterable[ContextItem] = (),
    ) -> Provenance:
        """From a thread's transcript: each tool result whose tool says it is
        untrusted for its arguments, and retrieved document passages."""
        human = [task, *(str(m.content) for m in messages if isinstance(m, HumanMessage))]
        raw_trusted = "\n".join(h for h in human if h)
        calls: dict[str, tuple[str, Mapping[str, Any]]] = {}
        found: list[Observation] = []
        for item in context:
            if item.get("kind") == "document":
                found.append(Observation(f"document {item['source']}", normalise(item["text"])))
        for message in messages:
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    calls[call.get("id") or ""] = (call["name"], call["args"])
            elif isinstance(message, ToolMessage):
                name, args = calls.get(message.tool_call_id, (message.name or "", {}))
                tool = tools.get(name)
                if tool is None or not untrusted_of(tool, args, raw_trusted):
                    continue
                found.append(
                    _observation(_describe_call(name, args, message.tool_call_id), _text(message))
                )
        return cls(normalise(raw_trusted), found)

    @property
    def untrusted(self) -> bool:
        return bool(self.observations)

    def copied(self, args: Mapping[str, Any], skip: Iterable[str] = ()) -> Copy | None:
        """The first fragment of ``args`` (leaving out the ``skip`` arguments)
        that appears in an untrusted observation, newest first, and not in
        the user's own words."""
        if not self.observations:
            return None
        skipped = set(skip)
        for arg, value in _string_args(args):
            if arg.split(".")[0] in skipped:
                continue
            text = normalise(value)
            for fragment in _fragments(text):
                if fragment in self.trusted:
                    continue
                for observation in reversed(self.observations):
                    if fragment in observation.text:
                        return Copy(arg, fragment, observation)
            for start in range(max(0, len(text) - WINDOW + 1)):
                window = text[start : start + WINDOW]
                hit = next((o for o in reversed(self.observations) if window in o.windows), None)
                if hit is not None and window not in self.trusted:
                    return Copy(arg, _grow(text, start, hit.text), hit)
        return None


@lru_cache(maxsize=1024)
def _observation(source: str, text: str) -> Observation:
    """One object per result, so its windows are computed once per process."""
    return Observation(source, normalise(text))


def _text(message: ToolMessage) -> str:
    content = message.content
    if isinstance(content, list):
        content = " ".join(
            str(c.get("text", c)) if isinstance(c, dict) else str(c) for c in content
        )
    return str(content)


def _describe_call(name: str, args: Mapping[str, Any], call_id: str) -> str:
    shown = ", ".join(f"{k}={str(v)[:80]!r}" for k, v in args.items() if isinstance(v, str))
    return f"the result of {name}({shown}) [call {call_id}]"


def _string_args(args: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in args.items():
        name = f"{prefix}{key}"
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, Mapping):
            yield from _string_args(value, name + ".")
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield f"{name}.{i}", item
                elif isinstance(item, Mapping):
                    yield from _string_args(item, f"{name}.{i}.")


def _fragments(text: str) -> list[str]:
    """URLs, hosts and path-like tokens of a (normalised) value, and the
    value itself: the parts a hijacked call copies."""
    found: list[str] = []
    if len(text) >= MIN_VALUE:
        found.append(text)
    for url in _URL.findall(text):
        found.append(url)
        host = urlsplit(url).netloc
        if len(host) >= MIN_TOKEN:
            found.append(host)
    for token in _TOKEN.findall(text):
        token = token.strip(".:/")
        if len(token) >= MIN_TOKEN and any(c in "/.:" for c in token):
            if any(c.isalnum() for c in token):
                found.append(token)
    return list(dict.fromkeys(found))


def _grow(text: str, start: int, source: str) -> str:
    """The longest run of ``text`` from ``start`` that ``source`` contains."""
    end = start + WINDOW
    while end < len(text) and text[start : end + 1] in source:
        end += 1
    return text[start:end]
