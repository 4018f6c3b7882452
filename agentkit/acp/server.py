"""agentkit as an ACP agent: sessions are threads, prompts are tasks,
approvals are permission requests.

- ``session/new`` starts a thread (the session id *is* the thread id) over
  the client's working directory; ``session/load`` reopens one, from any
  later process, and replays its transcript as session updates.
- ``session/prompt`` runs the prompt as a task and streams: plan updates,
  the agent's text, each tool call (kind, files, diff for writes) and its
  result. A call the policy asks about becomes ``session/request_permission``
  with allow-once / allow-always / reject, answered as Approve,
  Approve(always=scope) and Reject. If the thread was already waiting for an
  approval (the agent process was restarted while asking), the prompt first
  asks again and finishes that run, then runs its own text.
- ``session/cancel`` stops the run after its current step (and cuts a
  generation short); the thread stays consistent and the next prompt goes on.
- Session modes are agentkit's permission modes (default, accept-edits,
  plan, dont-ask; see docs/control.md): ``session/new`` and
  ``session/load`` report the thread's, ``session/set_mode`` stores another
  with the thread (from the next prompt on).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    RequestError,
    update_agent_message_text,
    update_agent_thought_text,
    update_user_message_text,
)
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    Implementation,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionMode,
    SessionModeState,
    SetSessionModeResponse,
    StopReason,
)
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agentkit.acp import updates as U
from agentkit.agent import Agent
from agentkit.errors import AgentkitError
from agentkit.events import (
    AgentEvent,
    ApprovalRequest,
    Approve,
    ContextEvent,
    Decision,
    ErrorEvent,
    FinalEvent,
    PlanEvent,
    Reject,
    TokenEvent,
    ToolCallProposed,
    ToolResultEvent,
)
from agentkit.modes import MODE_DESCRIPTIONS, MODES
from agentkit.tools.base import side_effects_of

log = logging.getLogger("agentkit.acp")
AgentFactory = Callable[[Path], Agent]
"""Builds the agent of a session from its working directory."""

CWD_KEY = "acp_cwd"


@dataclass
class Session:
    thread_id: str
    cwd: Path
    agent: Agent
    cancelled: bool = False
    asking: asyncio.Task[Any] | None = None
    streamed: list[str] = field(default_factory=list)  # text sent since the last tool call


class AcpAgent:
    """The ACP ``Agent`` side of agentkit (see the module docstring)."""

    def __init__(
        self, make_agent: AgentFactory, always: str = "thread", version: str = "0"
    ) -> None:
        self.make_agent = make_agent
        self.always = always
        self.version = version
        self.client: Client | None = None
        self.sessions: dict[str, Session] = {}

    def on_connect(self, conn: Client) -> None:
        self.client = conn

    # --- lifecycle ------------------------------------------------------------------
    async def initialize(self, protocol_version: int, **kwargs: Any) -> InitializeResponse:
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True, prompt_capabilities=PromptCapabilities(embedded_context=True)
            ),
            agent_info=Implementation(name="agentkit", title="agentkit", version=self.version),
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None

    async def new_session(self, cwd: str, **kwargs: Any) -> NewSessionResponse:
        from agentkit.threads import new_thread_id

        session = await self._open(new_thread_id(), cwd)
        threads = session.agent.threads
        threads.set_extra(
            session.thread_id, {**threads.extra(session.thread_id), CWD_KEY: str(session.cwd)}
        )
        return NewSessionResponse(session_id=session.thread_id, modes=self._modes(session))

    async def load_session(self, cwd: str, session_id: str, **kwargs: Any) -> LoadSessionResponse:
        session = await self._open(session_id, cwd)
        if not session.agent.threads.exists(session_id):
            self.sessions.pop(session_id, None)
            raise RequestError.resource_not_found(session_id)
        await self._replay(session)
        return LoadSessionResponse(modes=self._modes(session))

    def _modes(self, session: Session) -> SessionModeState:
        return SessionModeState(
            current_mode_id=session.agent.mode(session.thread_id),
            available_modes=[
                SessionMode(id=m, name=m, description=MODE_DESCRIPTIONS[m]) for m in MODES
            ],
        )

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse:
        """The thread's permission mode, from the next prompt on."""
        session = self._session(session_id)
        try:
            session.agent.set_mode(session_id, mode_id)
        except AgentkitError as err:
            raise RequestError.invalid_params({"mode_id": str(err)}) from None
        return SetSessionModeResponse()

    async def _open(self, thread_id: str, cwd: str) -> Session:
        session = self.sessions.get(thread_id)
        if session is None:
            path = Path(cwd).expanduser().resolve()
            agent = await asyncio.to_thread(self.make_agent, path)
            session = self.sessions[thread_id] = Session(thread_id, path, agent)
        return session

    def _session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.resource_not_found(session_id)
        return session

    async def _send(self, session: Session, update: Any) -> None:
        assert self.client is not None
        await self.client.session_update(session_id=session.thread_id, update=update)

    # --- replay ------------------------------------------------------------------------
    async def _replay(self, session: Session) -> None:
        """The thread's transcript as the updates a live prompt would have sent."""
        agent, cwd = session.agent, session.cwd
        messages = await asyncio.to_thread(agent.threads.messages, session.thread_id)
        results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
        tools = {t.name: t for t in agent.tools}
        for message in messages:
            if isinstance(message, HumanMessage):
                await self._send(session, update_user_message_text(str(message.content)))
            elif isinstance(message, AIMessage):
                if isinstance(message.content, str) and message.content.strip():
                    await self._send(session, update_agent_message_text(message.content))
                for call in message.tool_calls:
                    if call["name"] == "final_answer":
                        await self._send(
                            session, update_agent_message_text(str(call["args"].get("answer", "")))
                        )
                        continue
                    tool = tools.get(call["name"])
                    effects = sorted(side_effects_of(tool)) if tool is not None else []
                    await self._send(
                        session,
                        U.proposed(
                            call["id"] or "", call["name"], call["args"], effects, tool, cwd
                        ),
                    )
                    result = results.get(call["id"] or "")
                    if result is not None:
                        status = "error" if result.status == "error" else "ok"
                        await self._send(
                            session, U.finished(call["id"] or "", status, str(result.content))
                        )

    # --- prompt ------------------------------------------------------------------------
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        session.cancelled = False
        agent, thread = session.agent, session.thread_id
        text = U.prompt_text(prompt)
        if await asyncio.to_thread(agent.pending, thread):
            stop = await self._run(session, None)
            if stop != "end_turn" or not text.strip():
                return PromptResponse(stop_reason=stop)
        if not text.strip():
            return PromptResponse(stop_reason="end_turn")
        stop = await self._run(session, text)
        return PromptResponse(stop_reason=stop)

    async def _run(self, session: Session, task: str | None) -> StopReason:
        """Run ``task`` (None: the pending approvals), asking for permission
        until the run ends; the ACP stop reason."""
        agent, thread = session.agent, session.thread_id
        events: AsyncIterator[AgentEvent] | None = (
            agent.astream(task, thread) if task is not None else None
        )
        while True:
            if events is not None:
                async for event in events:
                    await self._forward(session, event)
            result = await asyncio.to_thread(agent.result, thread)
            if session.cancelled:
                return "cancelled"
            if result.status == "needs_approval":
                decisions = await self._ask(session, result.pending)
                if decisions is None:
                    return "cancelled"
                events = agent.astream_resume(thread, decisions)
                continue
            if result.status == "finished":
                return "end_turn"
            if result.status == "interrupted":
                return "cancelled"
            reason = result.stop_reason
            if "token" in reason:
                return "max_tokens"
            if "cancel" in reason:
                return "cancelled"
            if reason.startswith("max steps"):
                return "max_turn_requests"
            await self._send(session, update_agent_message_text(f"(stopped: {reason})"))
            return "end_turn"

    async def _forward(self, session: Session, event: AgentEvent) -> None:
        tools = {t.name: t for t in session.agent.tools}
        match event:
            case TokenEvent(text=text, node="act"):
                session.streamed.append(text)
                await self._send(session, update_agent_message_text(text))
            case PlanEvent(steps=steps):
                if len(steps) > 1:
                    await self._send(session, U.plan(steps))
            case ContextEvent(items=items):
                sources = ", ".join(i["source"] for i in items)
                await self._send(session, update_agent_thought_text(f"Context: {sources}"))
            case ToolCallProposed(call_id=call_id, tool=name, args=args, side_effects=effects):
                session.streamed.clear()
                await self._send(
                    session, U.proposed(call_id, name, args, effects, tools.get(name), session.cwd)
                )
            case ToolResultEvent(call_id=call_id, status=status, output=output):
                await self._send(session, U.finished(call_id, status, output))
            case FinalEvent(answer=answer):
                if "".join(session.streamed).strip() != answer.strip():
                    await self._send(session, update_agent_message_text(answer))
                session.streamed.clear()
            case ErrorEvent(message=message):
                await self._send(session, update_agent_thought_text(message))
            case _:
                pass

    async def _ask(self, session: Session, pending: list[ApprovalRequest]) -> list[Decision] | None:
        """One permission request per pending call; None when the turn was cancelled."""
        assert self.client is not None
        tools = {t.name: t for t in session.agent.tools}
        decisions: list[Decision] = []
        for request in pending:
            asking = asyncio.ensure_future(
                self.client.request_permission(
                    session_id=session.thread_id,
                    tool_call=U.permission_call(request, tools.get(request.tool), session.cwd),
                    options=U.PERMISSION_OPTIONS,
                )
            )
            session.asking = asking
            try:
                response = await asking
            except asyncio.CancelledError:
                return None
            finally:
                session.asking = None
            outcome = response.outcome
            if session.cancelled or getattr(outcome, "outcome", "") != "selected":
                return None
            choice = outcome.option_id  # type: ignore[union-attr]
            if choice == U.ALLOW_ONCE:
                decisions.append(Approve(call_id=request.call_id))
            elif choice == U.ALLOW_ALWAYS:
                decisions.append(Approve(call_id=request.call_id, always=self.always))  # type: ignore[arg-type]
            else:
                decisions.append(Reject(call_id=request.call_id, feedback="rejected in the editor"))
            if choice != U.REJECT:
                await self._send(session, U.running(request.call_id))
        return decisions

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        session.cancelled = True
        session.agent.cancel()
        if session.asking is not None:
            session.asking.cancel()
