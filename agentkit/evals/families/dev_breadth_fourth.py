"""Dev families, fourth wave: trained on only (``TRAINING_ONLY``).

Each wave of new intents moved held-out more than any rule (22 → 30 → 44
of 167): breadth transfers. The fourth wave's 19 intents go on from issue
25's list of what users ask and the tools' own descriptions, in the kinds
held-out scores lowest on. Here, changes and questions: a to-do ticked
off, a placeholder filled, a setting uncommented, a key renamed, a version
bumped, the smallest number, a whole file shown, an INI field, the lines
mentioning a word counted; ``dev_breadth_fourth_more`` has the new files,
the answers without a tool and the several-step tasks. None is in the
suite (held-out would fall under 28% of its families), none was written
from a held-out case, and intents docs/evals.md names as held-out stay out.
"""

from __future__ import annotations

from pydantic import JsonValue

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_edit import EDITORS
from agentkit.evals.families.vocab import (
    CITIES,
    PEOPLE,
    SENTENCES,
    STEMS,
    TASK_LINES,
    checks,
    distinct_numbers,
    lines,
)

FileExpect = dict[str, JsonValue]  # one file's checks, as a case spells them

# --- editing -----------------------------------------------------------------------------------


def one_edit(
    d: Draw, path: str, content: str, old: str, new: str, check: FileExpect, answer: str
) -> Instance:
    """A file whose change is one ``edit_file`` of ``old`` into ``new``."""
    return d.instance(
        files={path: content},
        expect_first_tool=EDITORS,
        checks=checks(files={path: check}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": old, "new_string": new}),), answer
        ),
    )


def tick_off(d: Draw) -> Instance:
    path = d.pick("path", ("todo.md", "tasks.md", "checklist.md", "week.md"))
    tasks = d.sample(TASK_LINES, 4)
    task = d.pick("task", tasks)
    content = lines([f"- [ ] {t}" for t in tasks])
    others = [f"- [ ] {t}" for t in tasks if t != task]
    check: FileExpect = {"contains": [f"- [x] {task}", *others]}
    return one_edit(
        d, path, content, f"- [ ] {task}", f"- [x] {task}", check, f"Ticked off {task}."
    )


TICK_OFF = Family(
    name="breadth4-tick-off-task",
    split="dev",
    kind="edit",
    wordings=(
        "Tick off {task} in {path}.",
        "i did {task}, mark it done in {path}",
        "Could you check the box for {task} in {path}?",
        "{task} is finished, so {path} should show it as done.",
    ),
    build=tick_off,
)


def fill_placeholder(d: Draw) -> Instance:
    path = d.pick("path", ("letter.txt", "invite.txt", "note.txt", "card.txt"))
    name = d.pick("name", PEOPLE)
    body = d.choice(SENTENCES)
    content = lines(["Dear [NAME],", body, "Best wishes"])
    check: FileExpect = {"contains": [f"Dear {name},", body], "not_contains": ["[NAME]"]}
    return one_edit(d, path, content, "Dear [NAME],", f"Dear {name},", check, f"Filled in {name}.")


FILL_PLACEHOLDER = Family(
    name="breadth4-fill-placeholder",
    split="dev",
    kind="edit",
    wordings=(
        "Fill in the [NAME] placeholder in {path} with {name}.",
        "put {name} where {path} says [NAME]",
        "{path} still has [NAME] in it; it should be {name}",
        "Can you address {path} to {name} instead of the placeholder?",
    ),
    build=fill_placeholder,
)

SETTINGS = (
    ("debug", "true"),
    ("verbose", "yes"),
    ("cache_size", "256"),
    ("max_workers", "4"),
    ("log_file", "app.log"),
)


def uncomment(d: Draw) -> Instance:
    path = d.pick("path", ("app.conf", "settings.ini", "server.cfg"))
    chosen = d.sample([k for k, _ in SETTINGS], 3)
    key = d.pick("key", chosen)
    values = dict(SETTINGS)
    rows = [f"# {k} = {values[k]}" if k == key else f"{k} = {values[k]}" for k in chosen]
    setting = f"{key} = {values[key]}"
    check: FileExpect = {"regex": rf"(?m)^{setting}$", "not_contains": [f"# {key}"]}
    return one_edit(d, path, lines(rows), f"# {setting}", setting, check, f"Uncommented {key}.")


UNCOMMENT = Family(
    name="breadth4-uncomment-setting",
    split="dev",
    kind="edit",
    wordings=(
        "Uncomment the {key} line in {path}.",
        "turn the {key} setting in {path} back on, it's commented out",
        "Remove the # in front of {key} in {path}.",
        "{key} in {path} shouldn't be a comment any more",
    ),
    build=uncomment,
)

KEY_RENAMES = (
    ("host", "server"),
    ("colour", "theme"),
    ("user", "owner"),
    ("retries", "attempts"),
    ("lang", "language"),
)


def rename_key(d: Draw) -> Instance:
    path = d.pick("path", ("config.yaml", "settings.yml", "app.yaml"))
    old, new = KEY_RENAMES[d.randint(0, len(KEY_RENAMES) - 1)]
    d.let("old", old)
    d.let("new", new)
    value = d.choice([c.lower() for c in CITIES])
    rows = ["name: demo", f"{old}: {value}", "port: 8080"]
    check: FileExpect = {
        "contains": [f"{new}: {value}", "name: demo"],
        "not_contains": [f"\n{old}:"],
    }
    answer = f"Renamed {old} to {new}."
    return one_edit(d, path, lines(rows), f"{old}: {value}", f"{new}: {value}", check, answer)


RENAME_KEY = Family(
    name="breadth4-rename-key",
    split="dev",
    kind="edit",
    wordings=(
        "In {path}, rename the key {old} to {new}.",
        "the {old} field in {path} should be called {new}",
        "Change the name of the {old} setting in {path} to {new}, keep its value.",
        "rename {old} -> {new} in {path}",
    ),
    build=rename_key,
)


def bump_version(d: Draw) -> Instance:
    path = d.pick("path", ("setup.cfg", "version.txt", "release.ini"))
    major, minor = d.randint(1, 4), d.randint(0, 8)
    old = d.let("old", f"{major}.{minor}.0")
    new = d.let("new", f"{major}.{minor + 1}.0")
    content = lines(["name = widget", f"version = {old}"])
    check: FileExpect = {"contains": [f"version = {new}"], "not_contains": [old]}
    return one_edit(d, path, content, old, new, check, f"Version is now {new}.")


BUMP_VERSION = Family(
    name="breadth4-bump-version",
    split="dev",
    kind="edit",
    wordings=(
        "Bump the version in {path} to {new}.",
        "{path} should be at version {new} now",
        "Change the version number in {path} from {old} to {new}.",
        "can u set version {new} in {path}",
    ),
    build=bump_version,
)


# --- reading -----------------------------------------------------------------------------------


def smallest(d: Draw) -> Instance:
    path = d.pick("path", ("prices.txt", "readings.txt", "weights.txt", "timings.txt"))
    numbers = distinct_numbers(d.rng, d.randint(4, 5), 12, 960)
    low = min(numbers)
    return d.instance(
        files={path: lines([str(n) for n in numbers])},
        read_only=True,
        expect_first_tool=("read_file", "sort_lines"),
        checks=checks(answer={"number": low, "not_contains": [str(max(numbers))]}),
        gold=Solution((Call("read_file", {"path": path}),), f"{low}"),
    )


SMALLEST = Family(
    name="breadth4-smallest-number",
    split="dev",
    kind="read",
    wordings=(
        "What's the smallest number in {path}?",
        "lowest value in {path}?",
        "Which of the numbers in {path} is the minimum?",
        "I need the least of the values listed in {path}",
    ),
    build=smallest,
)


def whole_file(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    rows = d.sample(SENTENCES, 2)
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("read_file",),
        checks=checks(answer={"contains_all": [r.rstrip(".") for r in rows]}),
        gold=Solution((Call("read_file", {"path": path}),), " ".join(rows)),
    )


WHOLE_FILE = Family(
    name="breadth4-show-whole-file",
    split="dev",
    kind="read",
    wordings=(
        "What does {path} say?",
        "show me {path}",
        "Could you tell me what's written in {path}?",
        "cat {path} pls",
    ),
    build=whole_file,
)


def ini_field(d: Draw) -> Instance:
    path = d.pick("path", ("db.ini", "service.ini", "deploy.ini"))
    user = d.choice(("admin", "deploy", "backup", "reader"))
    name = d.choice(("shop", "ledger", "wiki", "crm"))
    field = d.pick("field", ("user", "name"))
    value = user if field == "user" else name
    other = name if field == "user" else user
    content = lines(["[database]", f"name = {name}", f"user = {user}", "", "[cache]", "size = 64"])
    return d.instance(
        files={path: content},
        read_only=True,
        expect_first_tool=("read_field", "read_file"),
        checks=checks(answer={"contains": [value], "not_contains": [other]}),
        gold=Solution((Call("read_field", {"path": path, "key": f"database.{field}"}),), value),
    )


INI_FIELD = Family(
    name="breadth4-ini-field",
    split="dev",
    kind="read",
    wordings=(
        "What is the database {field} in {path}?",
        "which {field} does the database section of {path} set?",
        "{path}: database {field}?",
        "Look up the {field} under [database] in {path}.",
    ),
    build=ini_field,
)


# --- counting ----------------------------------------------------------------------------------


def lines_mentioning(d: Draw) -> Instance:
    path = d.pick("path", ("log.txt", "journal.txt", "diary.txt", "events.txt"))
    word = d.pick("word", ("error", "refund", "meeting", "delay"))
    hits = d.randint(2, 5)
    rows = d.shuffled(
        [f"{t} {word} noted" for t in d.sample(TASK_LINES, hits)] + d.sample(SENTENCES, 3)
    )
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("count", "grep", "read_file"),
        checks=checks(answer={"number": hits}),
        gold=Solution((Call("count", {"path": path, "text": word}),), f"{hits}", (str(hits),)),
    )


LINES_MENTIONING = Family(
    name="breadth4-count-lines-mentioning",
    split="dev",
    kind="count",
    wordings=(
        "How many lines in {path} mention {word}?",
        "count the {word} lines in {path}",
        "In {path}, on how many lines does {word} come up?",
        "number of times {path} says {word}?",
    ),
    build=lines_mentioning,
)


FAMILIES: tuple[Family, ...] = ()  # none in the suite
TRAINING_ONLY = (
    TICK_OFF,
    FILL_PLACEHOLDER,
    UNCOMMENT,
    RENAME_KEY,
    BUMP_VERSION,
    SMALLEST,
    WHOLE_FILE,
    INI_FIELD,
    LINES_MENTIONING,
)
