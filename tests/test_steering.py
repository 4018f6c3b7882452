"""Small-model steering: grounded arguments, tool routing, the act prompt's
worked examples and cues, answer-on-repeat, and the calculator's words.
Deterministic (scripted models, keyword embeddings); the real-model effect
of each technique is measured by ``agentkit eval`` (docs/evals.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from tests_support import KeywordEmbeddings

from agentkit.config import SteeringSettings, load_settings
from agentkit.graphs import prompts as P
from agentkit.models.grammar import ArgChoices, with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import NoSteering, StepView
from agentkit.steering.arguments import GROUNDED_ARGS, choices, mentions
from agentkit.steering.examples import examples_for
from agentkit.steering.exemplars import example_values, exemplar_messages
from agentkit.steering.focus import copy_text, focus_text
from agentkit.steering.grounding import (
    destination_paths,
    inventory,
    mentioned_paths,
    mentioned_urls,
)
from agentkit.steering.intent import asks_for_change
from agentkit.steering.routing import ToolRouter
from agentkit.steering.small import OBSERVATION_CUE, SmallModelSteering
from agentkit.tools import builtin_tools
from agentkit.tools.calculator import evaluate, from_words
from agentkit.tools.workspace import Workspace

SMALL = ModelProfile(n_params=270_000_000, base=True)


def grounded(tool: object, arg: str, text: str) -> ArgChoices | None:
    """What a small model's ``arg`` of ``tool`` may be for ``text``."""
    kind = GROUNDED_ARGS.get(tool.name, {}).get(arg)  # type: ignore[attr-defined]
    return None if kind is None else choices(tool, kind, text)  # type: ignore[arg-type]


def small_steering(router: ToolRouter | None = None, **settings: object) -> SmallModelSteering:
    return SmallModelSteering(SMALL, SteeringSettings(**settings), router)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("alpha\n")
    (tmp_path / "server.ini").write_text("port = 8443\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    return tmp_path


@pytest.fixture
def tools(workspace: Path) -> dict[str, object]:
    settings = load_settings(workspace=workspace, data_dir=workspace / ".data")
    return {t.name: t for t in builtin_tools(settings, workspace=workspace)}


# --- grounding ---------------------------------------------------------------------------


def test_mentioned_paths_and_urls() -> None:
    text = "Copy source.txt to docs/backup.md, version 2.4.1, see http://x.test/a.txt."
    assert mentioned_paths(text) == ["source.txt", "docs/backup.md"]
    assert mentioned_urls(text) == ["http://x.test/a.txt"]


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        # A quoted name keeps its spaces: "notes.txt" alone is another file.
        ('save "call mom" to "my notes.txt"', ["my notes.txt"]),
        ("copy 'Q3 report.docx' and a.md to backup/", ["Q3 report.docx", "a.md"]),
        ('write "x" to "drafts/old plan.md"', ["drafts/old plan.md"]),
        # Apostrophes are not quotes; quoted words that are no file name stay out.
        ("it's in my notes.txt's copy", ["notes.txt"]),
        ('say "hi there. ok" in a.txt', ["a.txt"]),
        # A dotfile is a name too ("make a .env file" once wrote env.toml); a
        # capitalised word after a dot is not (".NET").
        ("make a .env file with PORT=8080", [".env"]),
        ("add dist to app/.gitignore, not .NET", ["app/.gitignore"]),
        # A version is no file name ("put v1.2.0 into ..." created a file
        # v1.2.0); a capitals name in a folder is one, "and/or" is not.
        ('put "v1.2.0" into a new file release/VERSION', ["release/VERSION"]),
        ("see docs/LICENSE. and/or PASS/FAIL, docs/notes, 3.14", ["docs/LICENSE"]),
    ],
)
def test_a_quoted_file_name_may_hold_spaces(text: str, paths: list[str]) -> None:
    assert mentioned_paths(text) == paths


def test_a_write_goes_to_the_quoted_name_with_spaces(
    workspace: Path, tools: dict[str, object]
) -> None:
    (workspace / "notes.txt").write_text("keep\n")
    task = 'save "call mom" to "my notes.txt"'
    assert grounded(tools["write_file"], "path", task) == ["my notes.txt"]


def test_inventory_skips_tool_directories_and_bounds_its_size(workspace: Path) -> None:
    ws = Workspace(workspace)
    files, dirs = inventory(ws) or ([], [])
    assert files == ["notes/a.md", "server.ini"] and dirs == ["notes"]
    assert inventory(ws, limit=2) is None  # too many: the argument stays free


def test_a_repository_sized_workspace_keeps_the_groundings_of_named_files(tmp_path: Path) -> None:
    # 440 entries: more than a grammar may offer, fewer than a project's
    # repository. The groundings had all been off there (`make chat` in a
    # clone); the files a task names still narrow its arguments.
    for package in range(20):
        for module in range(20):
            path = tmp_path / "src" / f"pkg{package}" / f"mod{module}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x = 1\n")
    (tmp_path / "settings.yaml").write_text("name: orbit\nport: 8421\n")
    big = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    edit = "change the port in settings.yaml to 9000"
    fragments = grounded(big["edit_file"], "old_string", edit)
    assert isinstance(fragments, list) and "port: 8421" in fragments
    assert grounded(big["edit_file"], "path", edit) == ["settings.yaml"]
    # every file of it is too many to choose among: that path stays free
    assert grounded(big["read_file"], "path", "what is in the readme?") is None
    assert mentions(big["read_file"], "whats the port in settings.yaml?")


def test_a_virtualenv_of_any_name_is_not_listed(tmp_path: Path) -> None:
    (tmp_path / "venv-3.12" / "lib").mkdir(parents=True)
    (tmp_path / "venv-3.12" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "venv-3.12" / "lib" / "site.py").write_text("")
    (tmp_path / "env" / "notes.txt").parent.mkdir()
    (tmp_path / "env" / "notes.txt").write_text("mine\n")
    assert inventory(Workspace(tmp_path)) == (["env/notes.txt"], ["env"])


def test_one_step_walks_the_workspace_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.yaml").write_text("port: 8421\n")
    tools = builtin_tools(workspace=tmp_path)
    walks: list[str] = []
    real_walk = Workspace.walk

    def counted(self: Workspace, rel: str):  # type: ignore[no-untyped-def]
        walks.append(rel)
        return real_walk(self, rel)

    monkeypatch.setattr(Workspace, "walk", counted)
    steering = SmallModelSteering(ModelProfile(n_params=270_000_000, base=True))
    view = StepView(task="change the port in settings.yaml to 9000", messages=[])
    hints = steering.hints(view, tools)
    assert "port: 8421" in hints.arg_choices["edit_file"]["old_string"]
    assert walks == ["."]
    # the next step lists it again: a file made in between is seen
    (tmp_path / "new.yaml").write_text("a: 1\n")
    again = steering.hints(StepView(task="change a in new.yaml to 2", messages=[]), tools)
    assert again.arg_choices["edit_file"]["path"] == ["new.yaml"] and walks == [".", "."]
    # outside a step, each call walks
    assert inventory(Workspace(tmp_path)) == inventory(Workspace(tmp_path))
    assert len(walks) == 4


def test_path_arguments_may_only_name_what_exists(tools: dict[str, object]) -> None:
    task = "Write hello to out.txt"
    assert grounded(tools["read_file"], "path", task) == ["notes/a.md", "server.ini"]
    assert grounded(tools["list_dir"], "path", task) == [".", "notes"]
    # "to out.txt" names where to write: only there
    assert grounded(tools["write_file"], "path", task) == ["out.txt"]
    # without one: the new files it names, never an existing one
    assert grounded(tools["write_file"], "path", "Put hello in out.txt") == ["out.txt"]
    replace = "Replace server.ini with hello, and put bye in out.txt"
    assert grounded(tools["write_file"], "path", replace) == ["out.txt"]
    # a task that names no file leaves the path of a new file free
    assert grounded(tools["write_file"], "path", "Write a haiku") is None
    assert grounded(tools["read_file"], "start_line", task) is None
    assert grounded(tools["http_get"], "url", "Fetch http://h.test/x") == ["http://h.test/x"]
    # no URL in the text: a small model may not call http_get at all; a
    # capable one may name a URL itself
    assert grounded(tools["http_get"], "url", "What is the weather?") == []
    # a capable model gets no steering: every argument free, every tool callable
    view = StepView(task="What is the weather?", messages=[])
    assert NoSteering().hints(view, list(tools.values())).kinds() == frozenset()


def test_a_write_goes_where_the_task_says_to_write(tools: dict[str, object]) -> None:
    # the 270M model overwrote names.txt, the file it was asked to count
    task = "Count the lines in server.ini and write the count to count.txt"
    assert grounded(tools["write_file"], "path", task) == ["count.txt"]
    assert destination_paths("Copy source.txt into backup.txt") == ["backup.txt"]
    assert destination_paths("save it as the file out.md") == ["out.md"]
    assert destination_paths("Change the port in config.json to 9090") == []


def test_nothing_to_name_makes_a_tool_uncallable(tmp_path: Path) -> None:
    empty = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    assert grounded(empty["read_file"], "path", "Read notes.txt") == []
    assert grounded(empty["list_dir"], "path", "What is here?") == []
    assert grounded(empty["write_file"], "path", "Write hi to a.txt") == ["a.txt"]


def test_choices_narrow_the_grammar_not_the_prompt(tools: dict[str, object]) -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    spec = convert_to_openai_tool(tools["read_file"])
    narrowed = with_choices([spec], {"read_file": {"path": ["a.md", "b.md"]}})[0]
    assert narrowed["function"]["parameters"]["properties"]["path"]["enum"] == ["a.md", "b.md"]
    assert "enum" not in spec["function"]["parameters"]["properties"]["path"]  # copy


def test_what_a_task_names_points_at_the_tools_that_act_on_it(tools: dict[str, object]) -> None:
    asks = "What port does server.ini use?"
    assert mentions(tools["read_file"], asks) and mentions(tools["edit_file"], asks)
    assert not mentions(tools["write_file"], asks)  # it exists: not a file to create
    assert mentions(tools["write_file"], "Put 42 in answer.txt")
    assert not mentions(tools["read_file"], "What port does the server use?")
    assert mentions(tools["list_dir"], "What is in the notes folder?")
    assert mentions(tools["http_get"], "Get http://h.test/a") and not mentions(
        tools["calculator"], "What is 2 + server.ini?"
    )


# --- routing -----------------------------------------------------------------------------


def test_router_ranks_tools_by_their_closest_example(tools: dict[str, object]) -> None:
    router = ToolRouter(KeywordEmbeddings(), list(tools.values()))
    scores = router.scores("What is 37 times 12?")
    assert max(scores, key=scores.__getitem__) == "calculator"
    replies = router.scores("Reply with OK")
    assert max(replies, key=replies.__getitem__) == P.FINAL_ANSWER_TOOL


def test_routing_offers_the_top_tools_and_a_prior(tools: dict[str, object]) -> None:
    router = ToolRouter(KeywordEmbeddings(), list(tools.values()))
    steering = small_steering(router, routing_top_k=3)
    route = steering.route("What time is it?", list(tools.values()))
    assert "current_time" in route["offered"] and len(route["offered"]) == 3
    bias = route["bias"]
    assert max(bias, key=bias.__getitem__) == "current_time"
    assert bias["current_time"] == 0.0 and all(v <= 0 for v in bias.values())
    assert P.FINAL_ANSWER_TOOL in bias and P.FINAL_ANSWER_TOOL not in route["offered"]
    # without steering (a capable model) every tool is offered and there is no prior
    plain = NoSteering().route("x", list(tools.values()))
    assert plain["offered"] == list(tools) and plain["bias"] == {}
    assert small_steering(None).route("x", list(tools.values()))["offered"] == list(tools)


@pytest.mark.parametrize(
    ("task", "changes"),
    [
        ("What's the first line of poem.txt?", False),
        ("What port does server.ini use? Just the number please.", False),
        ("On which line of app.log does ERROR appear?", False),
        ("which text editor do I prefer? you stored it earlier", False),
        ("According to my notes, how do I deploy?", False),
        ("Write the text hello world to the file hello.txt", True),
        ("set the timeout in settings.toml to 30", True),
        ("Please remember this: my dentist is on May 3.", True),
        ("Add a line to chores.md", True),
        ("fix the typo in README.md", True),
        # verbs of change inside a question are about the file, not requests
        ("Which name is written in names.txt?", False),
        ("what did I save in notes.md", False),
        ("Where is the backup stored? Check backup.cfg.", False),
        ("Are the lines in list.txt sorted?", False),
        ("Who made the change described in log.txt?", False),
        # a request put as a question is a request
        ("Can you add milk to list.txt?", True),
        ("could you please write hi to a.txt?", True),
        ("What is 2 + 2? Write the answer to sum.txt.", True),
    ],
)
def test_change_intent(task: str, changes: bool) -> None:
    assert asks_for_change(task) is changes


def test_routing_never_offers_a_write_for_a_question(tools: dict[str, object]) -> None:
    router = ToolRouter(KeywordEmbeddings(), list(tools.values()))
    steering = small_steering(router, routing_top_k=len(tools))
    asked = steering.route("What's the first line of server.ini?", list(tools.values()))
    assert {"write_file", "edit_file"}.isdisjoint(asked["offered"])
    assert "read_file" in asked["offered"]
    told = steering.route("Write port = 1 to server.ini", list(tools.values()))
    assert {"write_file", "edit_file"} <= set(told["offered"])


# --- the act prompt ----------------------------------------------------------------------


def test_worked_examples_are_episodes_in_the_transcripts_format(tools: dict[str, object]) -> None:
    messages = exemplar_messages([tools["read_file"], tools["calculator"]])
    kinds = [type(m).__name__ for m in messages]
    assert kinds[:5] == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage", "ToolMessage"]
    calls = [c["name"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls == ["read_file", "final_answer", "calculator", "final_answer", "final_answer"]
    values = example_values([tools["read_file"]])
    assert "plan.txt" in values and "14 March" in values
    assert all(examples_for(t) for n, t in tools.items() if n != "think")


def test_observation_cue_and_the_prompt_only_growing(tools: dict[str, object]) -> None:
    steering = small_steering(None)
    call = AIMessage("", tool_calls=[{"name": "read_file", "args": {"path": "a"}, "id": "c1"}])
    view_1 = StepView(task="t", messages=[HumanMessage("t"), call])
    view_2 = StepView(task="t", messages=[*view_1.messages, ToolMessage("x", tool_call_id="c1")])
    answer = AIMessage(
        "", tool_calls=[{"name": "final_answer", "args": {"answer": "x"}, "id": "c2"}]
    )
    view_3 = StepView(task="t", messages=[*view_2.messages, answer])
    offered = [tools["read_file"]]
    prompts = [steering.prompt("sys", v, offered) for v in (view_1, view_2, view_3)]
    for before, after in zip(prompts, prompts[1:], strict=False):
        assert [m.content for m in after[: len(before)]] == [m.content for m in before]
    cues = [m for m in prompts[2] if isinstance(m, SystemMessage) and m.content == OBSERVATION_CUE]
    assert len(cues) == 2  # after the worked example's result and after the real one
    plain = small_steering(None, observation_cue=False, worked_examples=False).prompt(
        "s", view_2, offered
    )
    assert [type(m).__name__ for m in plain] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
    ]


# --- calculator ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("37 times 12", 444),
        ("What is 37 times 12?", 444),
        ("15% of 240", 36),
        ("square root of 1764", 42),
        ("add 1250 and 3775", 5025),
        ("Divide 1000 by 8", 125),
        ("1,250 plus 3,775", 5025),
        ("2 * (3 + 4) ** 2", 98),
    ],
)
def test_calculator_reads_arithmetic_in_words(words: str, value: float) -> None:
    assert evaluate(words) == pytest.approx(value)


def test_words_never_widen_what_is_evaluated() -> None:
    assert from_words("__import__('os')") == "__import__('os')"
    with pytest.raises(Exception, match="not allowed|unknown"):
        evaluate("__import__('os').system('true')")


def test_focus_keeps_the_lines_the_task_asks_about() -> None:
    result = "server.ini (lines 1-4 of 4)\n[server]\nhost = 0.0.0.0\nport = 8443\nworkers = 4"
    assert focus_text("What port does server.ini use?", result) == "port = 8443"
    recipe = "pancakes.md (lines 1-3 of 3)\n# Pancakes\n2 eggs\n300 ml milk"
    assert focus_text("how many eggs go in recipes/pancakes.md?", recipe) == "2 eggs"
    # Lines that tie are all kept.
    assert focus_text("how many eggs go into the pancakes?", recipe) == "# Pancakes\n2 eggs"
    # No line shares a word with the task: every content line, header dropped.
    todo = "todo.txt (lines 1-2 of 2)\nwater the plants\ncall the bank"
    assert focus_text("What is in todo.txt?", todo) == "water the plants\ncall the bank"
    # A question about the count is answered by the line that counts.
    assert focus_text("How many lines are in todo.txt?", todo) == "todo.txt (lines 1-2 of 2)"
    listing = "3 files: a.png, b.png, c.svg\na.png (16 bytes)\nb.png (16 bytes)\nc.svg (9 bytes)"
    assert focus_text("How many files are in images?", listing) == "3 files: a.png, b.png, c.svg"
    # A passage's line comes with its citation.
    passages = "Passages ...\n\n[handbook.md:1-3]\n# Handbook\nEmployees get 25 vacation days."
    assert focus_text("How many vacation days?", passages) == (
        "[handbook.md:1-3]\nEmployees get 25 vacation days."
    )


def test_copy_text_is_the_focus_of_the_latest_result_else_the_task() -> None:
    call = AIMessage("", tool_calls=[{"name": "read_file", "args": {"path": "a"}, "id": "c1"}])
    task = "What port does server.ini use?"
    messages = [
        HumanMessage(task),
        call,
        ToolMessage("server.ini (lines 1-2 of 2)\nhost = x\nport = 8443", tool_call_id="c1"),
    ]
    # After a result the next call answers from it: the task's own words
    # (the model copied the question back as its answer) get no bonus.
    assert copy_text(StepView(task=task, messages=messages)) == "port = 8443"
    assert copy_text(StepView(task=task, messages=messages[:1])) == task
