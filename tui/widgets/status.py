"""One-line status bar: model, speed, context, GPU offload, thread, state."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from agentkit.events import Usage


@dataclass(frozen=True)
class StatusInfo:
    """Everything the status bar shows; every field may be unknown."""

    model: str = "no model"
    tokens_per_s: float | None = None
    context_used: int | None = None
    context_size: int | None = None
    gpu_layers: int | None = None
    thread_id: str = ""
    state: str = "idle"  # idle | loading | generating | approval | cancelled | error
    mode: str = ""  # the thread's permission mode ("" until an agent is ready)


class SpeedMeter:
    """Decode speed from token arrival times. Pauses longer than a second
    (prompt evaluation, a tool running) are not generation time."""

    def __init__(self) -> None:
        self.tokens = 0
        self.seconds = 0.0
        self._last: float | None = None

    def tick(self, now: float | None = None) -> bool:
        """Count one token; True when the rate is worth redisplaying."""
        now = time.monotonic() if now is None else now
        if self._last is not None and now - self._last < 1.0:
            self.tokens += 1
            self.seconds += now - self._last
        self._last = now
        return self.tokens > 0 and self.tokens % 4 == 0

    @property
    def rate(self) -> float | None:
        return self.tokens / self.seconds if self.tokens and self.seconds > 0 else None


def short_model_name(spec: str) -> str:
    if spec.startswith("bundled:"):
        return spec.removeprefix("bundled:")
    return Path(spec).name.removesuffix(".gguf") or spec


def render_status(info: StatusInfo, width: int = 80) -> Text:
    speed = f"{info.tokens_per_s:.1f} tok/s" if info.tokens_per_s is not None else "– tok/s"
    if info.context_size:
        used = f"{info.context_used:,}" if info.context_used is not None else "?"
        context = f"ctx {used}/{info.context_size:,}"
    else:
        context = "ctx ?"
    if info.gpu_layers is None:
        gpu = "gpu ?"
    elif info.gpu_layers == 0:
        gpu = "cpu"
    elif info.gpu_layers < 0:
        gpu = "gpu all"
    else:
        gpu = f"gpu {info.gpu_layers}"
    thread = f"thread {info.thread_id[:8]}" if info.thread_id else "new thread"
    parts = [short_model_name(info.model), speed, context, gpu, thread]
    text = Text()
    text.append(f" {info.state} ", style="reverse bold")
    if info.mode:  # always visible: first after the state, never truncated away
        style = "bold" if info.mode == "default" else "bold yellow"
        text.append(" │ ", style="dim")
        text.append(f"mode {info.mode}", style=style)
    for part in parts:
        text.append(" │ ", style="dim")
        text.append(part)
    text.truncate(max(width, 10), overflow="ellipsis")
    return text


class StatusBar(Static):
    """Shows a :class:`StatusInfo`; update with :meth:`set`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.info = StatusInfo()
        self.speed = SpeedMeter()

    def start_run(self) -> None:
        self.speed = SpeedMeter()
        self.set(state="generating")

    def count_token(self) -> None:
        if self.speed.tick():
            self.set(tokens_per_s=self.speed.rate)

    def end_run(self, usage: Usage | None, context: tuple[int | None, int | None]) -> None:
        """The speed of the streamed tokens, else (silent tool calls) the
        run's usage; the model's context use, when it reports one."""
        if self.speed.rate is not None:
            self.set(tokens_per_s=self.speed.rate)
        elif usage and usage["model_seconds"] > 0 and usage["output_tokens"] > 0:
            self.set(tokens_per_s=usage["output_tokens"] / usage["model_seconds"])
        used, size = context
        if used is not None:
            self.set(context_used=used)
        if size:
            self.set(context_size=size)

    def set(self, **changes: object) -> None:
        self.info = replace(self.info, **changes)  # type: ignore[arg-type]
        self.refresh_text()

    def refresh_text(self) -> None:
        self.update(render_status(self.info, self.size.width or 80))

    def on_resize(self) -> None:
        self.refresh_text()
