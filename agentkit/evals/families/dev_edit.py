"""Dev families: changing part of an existing file. Each check looks at the
content the user asked for, and the lines they did not mention stay."""

from __future__ import annotations

import re

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_read import CONFIG_KEYS, config_text
from agentkit.evals.families.vocab import (
    CITIES,
    COLOURS,
    PEOPLE,
    SENTENCES,
    TASK_LINES,
    WORDS,
    checks,
    distinct_numbers,
    lines,
    words_regex,
)

EDITORS = ("edit_file", "read_file")


def _rewrite(path: str, after: str, answer: str) -> Solution:
    """The same edit with read + write (for a typed op that is not there)."""
    return Solution(
        (Call("read_file", {"path": path}), Call("write_file", {"path": path, "content": after})),
        answer,
    )


# --- a config value -----------------------------------------------------------------------


def config_set(d: Draw) -> Instance:
    fmt = d.choice(("ini", "toml", "json"))
    section = d.choice(("server", "network", "worker"))
    path = d.let("path", f"{d.choice(('config', 'settings', 'app'))}.{fmt}")
    keys = d.sample(CONFIG_KEYS, 3)
    key = d.pick("key", keys)
    numbers = distinct_numbers(d.rng, 4, 3, 900)  # three current values and the new one
    values = dict(zip(keys, numbers[:3], strict=True))
    old = d.let("old", values[key])
    new = int(d.let("new", numbers[3]))
    updated = {**values, key: new}
    if fmt == "ini":
        file_check: dict[str, object] = {
            "regex": rf"(?m)^{key}\s*=\s*{new}\s*$",
            "contains": [f"{k} = {v}" for k, v in values.items() if k != key],
            "not_contains": [f"{key} = {old}"],
        }
    else:
        file_check = {
            "json_path": [{"path": f"{section}.{k}", "equals": v} for k, v in updated.items()]
        }
    # The operation that sets a value by its key (an edit of the line does it too).
    return d.instance(
        files={path: config_text(fmt, section, values)},
        expect_first_tool=(*EDITORS, "set_field"),
        checks=checks(files={path: file_check}),
        gold=Solution(
            (Call("set_field", {"path": path, "key": key, "value": str(new)}),),
            f"{key} is now {new}.",
        ),
    )


CONFIG_SET = Family(
    name="edit-config-value",
    split="dev",
    kind="edit",
    wordings=(
        "Change the {key} in {path} to {new}.",
        "set the {key} in {path} to {new}",
        "In {path}, change the {key} from {old} to {new}.",
        "Could you please update {key} to {new} in {path}?",
        "{path}: {key} should be {new}",
    ),
    build=config_set,
)


# --- one word for another -----------------------------------------------------------------


def replace_word(d: Draw) -> Instance:
    old, new = d.sample(PEOPLE, 2)
    d.let("old", old)
    d.let("new", new)
    path = d.let("path", f"{d.choice(('letter', 'invite', 'card', 'note'))}.txt")
    sender = d.choice(PEOPLE, avoid=[old, new])
    before = f"Dear {old},\nThanks for the lovely dinner in {d.choice(CITIES)}.\nBest, {sender}\n"
    after = before.replace(old, new)
    return d.instance(
        files={path: before},
        expect_first_tool=EDITORS,
        checks=checks(files={path: {"equals": after}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": old, "new_string": new}),), "Done."
        ),
    )


REPLACE_WORD = Family(
    name="edit-replace-word",
    split="dev",
    kind="edit",
    wordings=(
        "Replace {old} with {new} in {path}",
        "In {path}, swap the name {old} for {new}.",
        "Can you change {old} to {new} in {path}?",
        "{path}: {old} -> {new}",
    ),
    build=replace_word,
)


# --- a typo -------------------------------------------------------------------------------

TYPOS = {
    "recieve": "receive",
    "seperate": "separate",
    "occured": "occurred",
    "definately": "definitely",
    "adress": "address",
    "untill": "until",
    "calender": "calendar",
    "goverment": "government",
}
TYPO_LINES = {
    "receive": "You will receive an email when the build finishes.",
    "separate": "Keep the logs in a separate folder.",
    "occurred": "The outage occurred twice last week.",
    "definitely": "We will definitely ship on Friday.",
    "address": "Send the parcel to the new address.",
    "until": "The office is closed until Monday.",
    "calendar": "Put the review in the shared calendar.",
    "government": "The form goes to the local government office.",
}


def fix_typo(d: Draw) -> Instance:
    typo = d.pick("typo", tuple(TYPOS))
    word = d.let("word", TYPOS[typo])
    path = d.pick("path", ("README.md", "NOTES.md", "notice.txt", "faq.md"))
    good = TYPO_LINES[word]
    bad = good.replace(word, typo)
    before = f"# {d.choice(WORDS).title()}\n{bad}\n{d.choice(SENTENCES)}\n"
    return d.instance(
        files={path: before},
        expect_first_tool=EDITORS,
        checks=checks(files={path: {"equals": before.replace(typo, word)}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": typo, "new_string": word}),), "Fixed."
        ),
    )


FIX_TYPO = Family(
    name="edit-fix-typo",
    split="dev",
    kind="edit",
    wordings=(
        'fix the typo "{typo}" in {path} (it should be "{word}")',
        "{path} has {typo} misspelled; correct it to {word}.",
        "Please correct the spelling of {typo} in {path}, it should read {word}.",
        "typo in {path}: {typo} → {word}",
        "Could you fix {typo} to {word} in {path}?",
    ),
    build=fix_typo,
)


# --- a line at the end ----------------------------------------------------------------------


def append_line(d: Draw) -> Instance:
    bullets = d.rng.random() < 0.5
    rows = d.sample(TASK_LINES, 3)
    line = d.pick("line", TASK_LINES, avoid=rows)
    path = d.let(
        "path", f"{d.choice(('chores', 'todo', 'log', 'errands'))}.{'md' if bullets else 'txt'}"
    )
    prefix = "- " if bullets else ""
    before = lines(f"{prefix}{r}" for r in rows)
    pattern = r"\A" + re.escape(before) + r"\n?(?:- )?" + words_regex(line) + r"\s*\Z"
    return d.instance(
        files={path: before},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"regex": pattern}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": "", "new_string": f"{prefix}{line}"}),),
            "Added.",
        ),
    )


APPEND_LINE = Family(
    name="append-line",
    split="dev",
    kind="edit",
    wordings=(
        'Append the line "{line}" to {path}',
        'Add "{line}" as a new line at the end of {path}',
        "add {line} to the end of {path}",
        "Could you put {line} at the bottom of {path}?",
        "{path} needs one more line at the end: {line}",
    ),
    build=append_line,
)


# --- an edit stated as the end state --------------------------------------------------------


END_STATE_FIELDS: dict[str, tuple[str, ...]] = {
    "Meeting room": ("Orchid", "Atlas", "Cedar", "Summit", "Harbour"),
    "Colour": COLOURS,
    "Venue": CITIES,
    "Dress code": ("casual", "smart", "formal", "costume"),
}


def end_state(d: Draw) -> Instance:
    field = d.choice(tuple(END_STATE_FIELDS))
    old, new = d.sample(END_STATE_FIELDS[field], 2)
    d.let("old", old)
    d.let("new", new)
    path = d.let("path", f"{d.choice(('event', 'party', 'offsite', 'workshop'))}.txt")
    before = (
        f"Date: {d.randint(10, 28)} {d.choice(('May', 'June', 'July'))}\n"
        f"{field}: {old}\nHost: {d.choice(PEOPLE)}\n"
    )
    return d.instance(
        files={path: before},
        expect_first_tool=EDITORS,
        checks=checks(files={path: {"equals": before.replace(f": {old}\n", f": {new}\n")}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {
                        "path": path,
                        "old_string": f"{field}: {old}",
                        "new_string": f"{field}: {new}",
                    },
                ),
            ),
            "Done.",
        ),
    )


END_STATE = Family(
    name="edit-end-state",
    split="dev",
    kind="edit",
    wordings=(
        "{path} should say {new} instead of {old}.",
        "In {path} it says {old} but it should be {new}.",
        "Make {path} say {new} where it now says {old}.",
        "{old} is wrong in {path}, it's {new}",
        "Could you fix {path} so it reads {new}, not {old}?",
    ),
    build=end_state,
)


# --- every occurrence ----------------------------------------------------------------------


def replace_all(d: Draw) -> Instance:
    old, new = d.sample(("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"), 2)
    d.let("old", old)
    d.let("new", new)
    path = d.let("path", f"{d.choice(('contract', 'proposal', 'brief', 'press'))}.md")
    before = (
        f"# {old} proposal\n{old} will deliver the parts by June.\n"
        f"Payment goes to {old} within 30 days.\nQuestions: ask {d.choice(PEOPLE)} at {old}.\n"
    )
    return d.instance(
        files={path: before},
        expect_first_tool=EDITORS,
        checks=checks(files={path: {"equals": before.replace(old, new)}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {"path": path, "old_string": old, "new_string": new, "replace_all": True},
                ),
            ),
            "Replaced all four.",
        ),
    )


REPLACE_ALL = Family(
    name="edit-replace-all",
    split="dev",
    kind="edit",
    wordings=(
        "Replace {old} with {new} everywhere in {path}.",
        "In {path}, change every {old} to {new}.",
        "Can you swap all occurrences of {old} for {new} in {path}?",
        "{old} -> {new} in all of {path}",
    ),
    build=replace_all,
)


# --- remove a word --------------------------------------------------------------------------

FILLERS = ("very", "really", "quite", "rather", "extremely")


def remove_word(d: Draw) -> Instance:
    word = d.pick("word", FILLERS)
    path = d.let("path", f"{d.choice(('review', 'feedback', 'blurb', 'caption'))}.txt")
    adjective = d.choice(("long", "quiet", "bright", "busy", "cold"))
    subject = d.choice(("The hall", "Our trip", "The evening", "The market"))
    line = f"{subject} was {word} {adjective}."
    other = d.choice(SENTENCES)
    before = f"{line}\n{other}\n"
    return d.instance(
        files={path: before},
        expect_first_tool=EDITORS,
        checks=checks(
            files={
                path: {
                    "regex": rf"\A{words_regex(f'{subject} was {adjective}.')}\n"
                    + re.escape(other)
                    + r"\s*\Z"
                }
            }
        ),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": f"{word} ", "new_string": ""}),),
            "Removed.",
        ),
    )


REMOVE_WORD = Family(
    name="edit-remove-word",
    split="dev",
    kind="edit",
    wordings=(
        "Remove the word {word} from {path}.",
        "Delete {word} in {path}.",
        "{path} shouldn't have the word {word} in it.",
        "can you take '{word}' out of {path}?",
    ),
    build=remove_word,
)


# --- sort lines ----------------------------------------------------------------------------


def sort_lines(d: Draw) -> Instance:
    names = d.sample(PEOPLE, d.randint(4, 6))
    while names == sorted(names):
        names = d.shuffled(names)
    path = d.let("path", f"{d.choice(('guests', 'names', 'attendees', 'members'))}.txt")
    after = lines(sorted(names))
    return d.instance(
        files={path: lines(names)},
        expect_first_tool=("sort_lines", "read_file", "shell"),
        checks=checks(files={path: {"equals": after}}),
        gold=Solution((Call("sort_lines", {"path": path}),), "Sorted."),
        fallback=_rewrite(path, after, "Sorted."),
    )


SORT_LINES = Family(
    name="sort-lines",
    split="dev",
    kind="edit",
    wordings=(
        "Sort the lines of {path} alphabetically.",
        "Can you put the names in {path} in alphabetical order?",
        "I'd like {path} sorted from A to Z.",
        "sort {path}",
    ),
    build=sort_lines,
)


FAMILIES: tuple[Family, ...] = (
    CONFIG_SET,
    REPLACE_WORD,
    FIX_TYPO,
    APPEND_LINE,
    END_STATE,
    REPLACE_ALL,
    REMOVE_WORD,
    SORT_LINES,
)
