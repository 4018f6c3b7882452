"""Held-out families: new files, edits, and tasks of several steps.

Held out: only the aggregate score of these families is ever read. Do not
quote them elsewhere or tune anything against their failures.
"""

from __future__ import annotations

import json
import re

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_read import config_text
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    SENTENCES,
    STEMS,
    TASK_LINES,
    TOPICS,
    WORDS,
    checks,
    distinct_numbers,
    lines,
)


def _rewrite(path: str, after: str, answer: str) -> Solution:
    return Solution(
        (Call("read_file", {"path": path}), Call("write_file", {"path": path, "content": after})),
        answer,
    )


# --- write ----------------------------------------------------------------------------------


def sequence(d: Draw) -> Instance:
    a = d.number("a", 1, 12)
    b = d.number("b", a + 3, a + 9)
    path = d.pick("path", ("numbers.txt", "sequence.txt", "range.txt", "steps.txt"))
    content = lines(str(n) for n in range(a, b + 1))
    return d.instance(
        expect_first_tool=("write_file", "shell"),
        checks=checks(files={path: {"equals": content}}),
        gold=Solution((Call("write_file", {"path": path, "content": content}),), "Done."),
    )


SEQUENCE = Family(
    name="write-sequence",
    split="heldout",
    kind="write",
    wordings=(
        "I need a new file called {path} that lists the numbers from {a} to {b}, one per line.",
        "{path} should hold every number from {a} to {b}, each on its own line.",
        "Could you set up {path} with the numbers {a} through {b}, one per line?",
        "numbers {a}..{b} in {path}, one per line",
    ),
    build=sequence,
)


def json_config(d: Draw) -> Instance:
    path = d.pick("path", ("config.json", "prefs.json", "options.json"))
    key1 = d.pick("key1", ("theme", "language", "region"))
    value1 = d.pick(
        "value1",
        {"theme": ("dark", "light"), "language": ("pt", "de", "ja"), "region": ("eu", "us")}[key1],
    )
    key2 = d.pick("key2", ("retries", "limit", "columns"))
    value2 = d.number("value2", 2, 40)
    return d.instance(
        expect_first_tool=("write_file",),
        checks=checks(
            files={
                path: {
                    "json_path": [
                        {"path": key1, "equals": value1},
                        {"path": key2, "equals": value2},
                    ]
                }
            }
        ),
        gold=Solution(
            (
                Call(
                    "write_file",
                    {"path": path, "content": json.dumps({key1: value1, key2: value2}) + "\n"},
                ),
            ),
            "Created.",
        ),
    )


JSON_CONFIG = Family(
    name="write-json-config",
    split="heldout",
    kind="write",
    wordings=(
        'Create {path} with "{key1}" set to "{value1}" and "{key2}" set to {value2}.',
        "Can you make a JSON file {path} where {key1} is {value1} and {key2} is the number {value2}?",
        "I need {path} as JSON: {key1} = {value1}, {key2} = {value2} (a number).",
        "json {path}: {key1}={value1}, {key2}={value2}",
    ),
    build=json_config,
)


# --- edit -----------------------------------------------------------------------------------


def remove_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('todo', 'chores', 'weekend', 'errands'))}.txt")
    rows = d.sample(TASK_LINES, 4)
    gone = rows[d.randint(0, 3)]
    d.let("keyword", gone.split()[-1])
    d.let("line", gone)
    after = lines(r for r in rows if r != gone)
    return d.instance(
        files={path: lines(rows)},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"equals": after}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": f"{gone}\n", "new_string": ""}),),
            "Removed.",
        ),
    )


REMOVE_LINE = Family(
    name="remove-line",
    split="heldout",
    kind="edit",
    wordings=(
        "Delete the line about {keyword} from {path}.",
        'Remove "{line}" from {path}, it is done.',
        "{path} shouldn't list {line} any more.",
        "can you drop the {keyword} line in {path}?",
    ),
    build=remove_line,
)


def insert_top(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(STEMS)}.md")
    title = d.let("title", f"{d.choice(WORDS).title()} {d.choice(('plan', 'notes', 'log'))}")
    before = lines(d.sample(SENTENCES, 3))
    heading = f"# {title}\n"
    first = before.split("\n", 1)[0]
    return d.instance(
        files={path: before},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(
            files={path: {"regex": rf"\A#\s*{re.escape(title)}\s*\n+{re.escape(before)}\s*\Z"}}
        ),
        gold=Solution(
            (
                Call(
                    "edit_file", {"path": path, "old_string": first, "new_string": heading + first}
                ),
            ),
            "Added the title.",
        ),
    )


INSERT_TOP = Family(
    name="insert-first-line",
    split="heldout",
    kind="edit",
    wordings=(
        'Add the heading "# {title}" as the first line of {path}.',
        "Can you put a title line, # {title}, at the very top of {path}?",
        "{path} should start with the line # {title}.",
        "prepend '# {title}' to {path}",
    ),
    build=insert_top,
)


def dedupe(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('emails', 'tags', 'cities', 'visitors'))}.txt")
    unique = d.sample(CITIES, 5)
    doubled = d.sample(unique, 2)
    rows = list(unique)
    for item in doubled:
        rows.insert(d.randint(rows.index(item) + 1, len(rows)), item)
    after = lines(unique)
    return d.instance(
        files={path: lines(rows)},
        expect_first_tool=("dedupe_lines", "read_file", "shell"),
        checks=checks(files={path: {"equals": after}}),
        gold=Solution((Call("dedupe_lines", {"path": path}),), "Removed the duplicates."),
        fallback=_rewrite(path, after, "Removed the duplicates."),
    )


DEDUPE = Family(
    name="dedupe-lines",
    split="heldout",
    kind="edit",
    wordings=(
        "Remove the duplicate lines from {path}.",
        "Could you make sure every line in {path} appears only once? Keep the order.",
        "I'd like {path} without repeats, first occurrences kept.",
        "dedupe {path}",
    ),
    build=dedupe,
)


def comment_out(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('app', 'deploy', 'local'))}.ini")
    keys = d.sample(("debug", "verbose", "profile", "mock_mail", "dry_run"), 3)
    key = d.pick("key", keys)
    values = {k: d.choice(("true", "false", "1")) for k in keys}
    rows = [f"{k} = {v}" for k, v in values.items()]
    target = f"{key} = {values[key]}"
    before = "[main]\n" + lines(rows)
    body = "".join(
        rf"[#;]\s*{re.escape(r)}\n" if r == target else rf"{re.escape(r)}\n" for r in rows
    )
    pattern = rf"\A\[main\]\n{body}\s*\Z"
    return d.instance(
        files={path: before},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"regex": pattern}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": target, "new_string": f"# {target}"}),),
            "Commented out.",
        ),
    )


COMMENT_OUT = Family(
    name="comment-out-line",
    split="heldout",
    kind="edit",
    wordings=(
        "Comment out the {key} line in {path}.",
        "Can you disable the {key} setting in {path} by commenting it out?",
        "The {key} line of {path} should be a comment.",
        "comment out {key} in {path} pls",
    ),
    build=comment_out,
)


# --- several steps --------------------------------------------------------------------------


def sum_to_file(d: Draw) -> Instance:
    src = d.let("src", f"{d.choice(('expenses', 'scores', 'hours', 'amounts'))}.txt")
    dst = d.pick("dst", ("total.txt", "sum.txt", "result.txt"))
    numbers = [d.randint(11, 99) for _ in range(d.randint(3, 5))]
    total = sum(numbers)
    expression = " + ".join(str(n) for n in numbers)
    return d.instance(
        files={src: lines(str(n) for n in numbers)},
        expect_first_tool=("read_file", "shell"),
        checks=checks(
            files={dst: {"regex": rf"\A\s*{total}(\.0+)?\s*\Z"}, src: {"unchanged": True}}
        ),
        gold=Solution(
            (
                Call("read_file", {"path": src}),
                Call("calculator", {"expression": expression}),
                Call("write_file", {"path": dst, "content": f"{total}\n"}),
            ),
            f"The total is {total}; saved in {dst}.",
            (str(total),),
        ),
    )


SUM_TO_FILE = Family(
    name="sum-to-file",
    split="heldout",
    kind="multi_step",
    wordings=(
        "Add up the numbers in {src} and save the total in {dst}.",
        "What do the numbers in {src} sum to? Put the answer in {dst}.",
        "I need the total of {src} written to {dst}, just the number.",
        "sum {src} > {dst}",
    ),
    build=sum_to_file,
)


def find_then_copy(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    word = d.pick("word", TOPICS)
    dst = d.pick("dst", ("found.txt", "match.txt", "keep.txt"))
    stems = d.sample(STEMS, 3)
    plain = [s for s in SENTENCES if word not in s.lower()]
    target = f"{folder}/{stems[0]}.txt"
    text = f"{d.choice(plain)}\nThe {word} is due on Friday.\n"
    files = {target: text} | {f"{folder}/{s}.txt": f"{d.choice(plain)}\n" for s in stems[1:]}
    return d.instance(
        files=files,
        expect_first_tool=("grep", "shell"),
        checks=checks(files={dst: {"equals": text}, target: {"unchanged": True}}),
        gold=Solution(
            (
                Call("grep", {"pattern": word, "path": folder}),
                Call("copy_file", {"source": target, "destination": dst}),
            ),
            "Copied.",
        ),
        fallback=Solution(
            (
                Call("grep", {"pattern": word, "path": folder}),
                Call("read_file", {"path": target}),
                Call("write_file", {"path": dst, "content": text}),
            ),
            "Copied.",
        ),
    )


FIND_THEN_COPY = Family(
    name="find-then-copy",
    split="heldout",
    kind="multi_step",
    wordings=(
        "Copy the file in {folder} that mentions the {word} to {dst}.",
        "Which file in {folder} talks about the {word}? Make a copy of it called {dst}.",
        "I'd like a copy of whichever {folder} file mentions the {word}, saved as {dst}.",
        "{word} file in {folder} -> copy to {dst}",
    ),
    build=find_then_copy,
)


def field_to_file(d: Draw) -> Instance:
    fmt = d.choice(("ini", "yaml", "json"))
    section = d.choice(("build", "release"))
    src = d.let("src", f"{d.choice(('project', 'meta', 'package'))}.{fmt}")
    dst = d.pick("dst", ("value.txt", "answer.txt", "out.txt"))
    keys = d.sample(("port", "build_number", "revision", "workers"), 3)
    key = d.pick("key", keys)
    numbers = distinct_numbers(d.rng, 3, 10, 9999)
    values = dict(zip(keys, numbers, strict=True))
    value = values[key]
    return d.instance(
        files={src: config_text(fmt, section, values)},
        expect_first_tool=("read_field", "read_file", "grep"),
        checks=checks(files={dst: {"regex": rf"\A\s*{value}\s*\Z"}, src: {"unchanged": True}}),
        gold=Solution(
            (
                Call("read_field", {"path": src, "key": f"{section}.{key}"}),
                Call("write_file", {"path": dst, "content": f"{value}\n"}),
            ),
            "Done.",
            (str(value),),
        ),
        fallback=Solution(
            (
                Call("read_file", {"path": src}),
                Call("write_file", {"path": dst, "content": f"{value}\n"}),
            ),
            "Done.",
        ),
    )


FIELD_TO_FILE = Family(
    name="field-to-file",
    split="heldout",
    kind="multi_step",
    wordings=(
        "Take the {key} from {src} and write it into {dst}.",
        "Could you copy the value of {key} in {src} into a file called {dst}?",
        "{dst} should contain the {key} from {src}, nothing else.",
        "{key} of {src} -> {dst}",
    ),
    build=field_to_file,
)


FAMILIES: tuple[Family, ...] = (
    SEQUENCE,
    JSON_CONFIG,
    REMOVE_LINE,
    INSERT_TOP,
    DEDUPE,
    COMMENT_OUT,
    SUM_TO_FILE,
    FIND_THEN_COPY,
    FIELD_TO_FILE,
)
