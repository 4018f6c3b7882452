"""Dev families, fourth wave (continued): trained on only.

New files (a markdown heading, a CSV header, a one-setting config, a note
jotted down), answers without a tool (an email or a date picked out of a
message, a thank-you), and several steps (a file's value remembered, a copy
edited, a memory written to a file). See ``dev_breadth_fourth``.
"""

from __future__ import annotations

from pydantic import JsonValue

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_breadth_fourth import SETTINGS
from agentkit.evals.families.dev_knowledge import RECALLED, no_tool_instance
from agentkit.evals.families.dev_write import new_file_instance, other_file
from agentkit.evals.families.vocab import (
    CITIES,
    ITEMS,
    MONTHS,
    PEOPLE,
    SENTENCES,
    STEMS,
    checks,
    lines,
)

# --- writing -----------------------------------------------------------------------------------

TITLES = ("Meeting notes", "Reading list", "Trip plan", "Project ideas", "Weekly report")


def markdown_heading(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.md" for s in STEMS])
    title = d.pick("title", TITLES)
    return new_file_instance(d, path, f"# {title}\n", {"regex": rf"^# {title}"})


MARKDOWN_HEADING = Family(
    name="breadth4-markdown-heading",
    split="dev",
    kind="write",
    wordings=(
        "Start a new markdown file {path} with the heading {title}.",
        "new doc {path}, title it {title}",
        "I need {path} to begin with a '{title}' heading.",
        "Could you set up {path} with {title} as its top-level heading?",
    ),
    build=markdown_heading,
)

COLUMNS = ("name", "age", "city", "email", "phone", "amount")


def csv_header(d: Draw) -> Instance:
    path = d.pick("path", ("people.csv", "contacts.csv", "orders.csv", "members.csv"))
    a, b, c = d.sample(COLUMNS, 3)
    d.let("a", a)
    d.let("b", b)
    d.let("c", c)
    check = {"regex": rf"^{a}\s*,\s*{b}\s*,\s*{c}\s*$"}
    return new_file_instance(d, path, f"{a},{b},{c}\n", check)


CSV_HEADER = Family(
    name="breadth4-csv-header",
    split="dev",
    kind="write",
    wordings=(
        "Create {path} with the columns {a}, {b} and {c}.",
        "make a csv {path} whose header is {a},{b},{c}",
        "I want an empty table in {path}: columns {a}, {b}, {c}",
        "Set up {path} with a header row of {a}, {b} and {c}, please.",
    ),
    build=csv_header,
)


def one_setting(d: Draw) -> Instance:
    path = d.pick("path", ("local.conf", "prefs.ini", "options.cfg"))
    key, value = SETTINGS[d.randint(0, len(SETTINGS) - 1)]
    d.let("key", key)
    d.let("value", value)
    check = {"regex": rf"(?m)^{key}\s*[:=]\s*{value}\s*$"}
    return new_file_instance(d, path, f"{key} = {value}\n", check)


ONE_SETTING = Family(
    name="breadth4-one-setting-file",
    split="dev",
    kind="write",
    wordings=(
        "Create a config file {path} that sets {key} to {value}.",
        "{path} needs one setting: {key} = {value}",
        "new settings file {path} with {key}: {value}",
        "Could you write {key}={value} into a fresh {path}?",
    ),
    build=one_setting,
)


def jot_note(d: Draw) -> Instance:
    path = d.pick("path", ("notes.txt", "reminders.txt", "jottings.txt", "memo.txt"))
    sentence = d.pick("sentence", SENTENCES)
    check: dict[str, JsonValue] = {"contains": [sentence.rstrip(".")]}
    return new_file_instance(d, path, f"{sentence}\n", check, f"Saved to {path}.")


JOT_NOTE = Family(
    name="breadth4-jot-note-in-file",
    split="dev",
    kind="write",
    wordings=(
        "Jot down '{sentence}' in {path}.",
        "put a note in {path} saying {sentence}",
        "save this to {path}: {sentence}",
        "I want {path} to contain the sentence: {sentence}",
    ),
    build=jot_note,
)


# --- without a tool ----------------------------------------------------------------------------

DOMAINS = ("example.org", "mail.test", "corp.example", "inbox.test")


def extract_email(d: Draw) -> Instance:
    name = d.pick("name", PEOPLE)
    email = f"{name.lower()}@{d.choice(DOMAINS)}"
    d.let("message", f"Hi, for the {d.choice(ITEMS)} order write to {email} before Friday.")
    return no_tool_instance(d, email, {"contains": [email]})


EXTRACT_EMAIL = Family(
    name="breadth4-extract-email",
    split="dev",
    kind="no_tool",
    wordings=(
        "What's the email address in this message: {message}",
        "pull out the email from: {message}",
        'Which address should I write to? "{message}"',
        "Give me just the e-mail in '{message}'",
    ),
    build=extract_email,
)


def extract_date(d: Draw) -> Instance:
    event = d.pick("event", ("party", "dentist visit", "team lunch", "exam", "concert"))
    when = f"{d.randint(2, 28)} {d.choice(MONTHS)}"
    d.let("message", f"Reminder: the {event} is on {when} at noon.")
    return no_tool_instance(d, when, {"contains": [when]})


EXTRACT_DATE = Family(
    name="breadth4-extract-date",
    split="dev",
    kind="no_tool",
    wordings=(
        "When is the {event}? The note says: {message}",
        'what date does this give for the {event}: "{message}"',
        "{message} -- so which day is the {event}?",
        "Tell me the date of the {event} from this text: {message}",
    ),
    build=extract_date,
)


def thanks(d: Draw) -> Instance:
    d.let("name", d.choice(PEOPLE))
    return no_tool_instance(d, "You're welcome!", {"regex": r"\w"})


THANKS = Family(
    name="breadth4-thanks-reply",
    split="dev",
    kind="no_tool",
    wordings=(
        "Thanks, that's everything.",
        "great, thank you!",
        "ok cool, that's all I needed",
        "Thank you for the help, this is {name} signing off.",
    ),
    build=thanks,
)


# --- several steps -----------------------------------------------------------------------------

LABELLED = (
    ("wifi password", ("sunflower42", "bluefox99", "orchard7")),
    ("door code", ("4417", "8203", "5590")),
    ("locker number", ("B12", "C31", "A07")),
)


def remember_from_file(d: Draw) -> Instance:
    path = d.pick("path", ("house.txt", "office.txt", "info.txt"))
    label, options = LABELLED[d.randint(0, len(LABELLED) - 1)]
    d.let("label", label)
    value = d.choice(options)
    return d.instance(
        files={path: lines([f"{label}: {value}", d.choice(SENTENCES)])},
        read_only=True,
        expect_first_tool=("read_file", "read_field"),
        checks=checks(memory={"contains": [value]}),
        gold=Solution(
            (
                Call("read_file", {"path": path}),
                Call("remember", {"text": f"The {label} is {value}."}),
            ),
            f"Remembered: the {label} is {value}.",
        ),
    )


REMEMBER_FROM_FILE = Family(
    name="breadth4-remember-from-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Look up the {label} in {path} and remember it.",
        "remember the {label} from {path} for later",
        "Store the {label} that {path} gives in your memory.",
        "can you memorise the {label} in {path}?",
    ),
    build=remember_from_file,
)


def copy_then_edit(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    dest = d.pick("dest", ("copy.txt", "draft.txt", "version2.txt"), avoid=[path])
    old = d.pick("old", CITIES)
    new = d.pick("new", CITIES, avoid=[old])
    content = lines([f"Meet in {old} at nine.", d.choice(SENTENCES)])
    return d.instance(
        files={path: content},
        expect_first_tool=("copy_file", "read_file"),
        checks=checks(
            files={
                path: {"unchanged": True},
                dest: {"contains": [f"Meet in {new}"], "not_contains": [old]},
            }
        ),
        gold=Solution(
            (
                Call("copy_file", {"source": path, "destination": dest}),
                Call("edit_file", {"path": dest, "old_string": old, "new_string": new}),
            ),
            f"{dest} says {new}.",
        ),
    )


COPY_THEN_EDIT = Family(
    name="breadth4-copy-then-edit",
    split="dev",
    kind="multi_step",
    wordings=(
        "Make a copy of {path} called {dest}, and in the copy change {old} to {new}.",
        "copy {path} to {dest} then swap {old} for {new} in {dest}",
        "I need {dest}: the same as {path} but with {new} instead of {old}.",
        "Duplicate {path} as {dest}; the duplicate should say {new} where it says {old}.",
    ),
    build=copy_then_edit,
)


def memory_to_file(d: Draw) -> Instance:
    topic = d.pick("topic", tuple(RECALLED))
    template, options = RECALLED[topic]
    value = d.choice(options)
    dest = d.pick("dest", ("me.txt", "profile.txt", "about.txt"))
    return d.instance(
        memories=(template.format(v=value),),
        files=other_file(d, dest),
        expect_first_tool=("recall",),
        checks=checks(files={dest: {"contains": [value]}}),
        gold=Solution(
            (
                Call("recall", {"query": topic}),
                Call("write_file", {"path": dest, "content": f"{value}\n"}),
            ),
            f"Wrote {value} to {dest}.",
        ),
    )


MEMORY_TO_FILE = Family(
    name="breadth4-memory-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Write my {topic} into {dest}.",
        "put what you remember about my {topic} in {dest}",
        "{dest} should record my {topic}, you know it from memory",
        "Could you save my {topic} to {dest}?",
    ),
    build=memory_to_file,
)


FAMILIES: tuple[Family, ...] = ()  # none in the suite
TRAINING_ONLY = (
    MARKDOWN_HEADING,
    CSV_HEADER,
    ONE_SETTING,
    JOT_NOTE,
    EXTRACT_EMAIL,
    EXTRACT_DATE,
    THANKS,
    REMEMBER_FROM_FILE,
    COPY_THEN_EDIT,
    MEMORY_TO_FILE,
)
