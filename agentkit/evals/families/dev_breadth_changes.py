"""Dev families, second wave: more of the changes users ask for.

Like ``dev_breadth_asks``: intents the first dev families lacked (find a
file by name, overwrite, an empty file, a JSON setting, a
line inserted after another, a line or the matches of a word saved to a
new file), written from what the tools can do, never from a held-out case.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_write import other_file
from agentkit.evals.families.vocab import (
    FOLDERS,
    SENTENCES,
    STEMS,
    TASK_LINES,
    WORDS,
    checks,
    lines,
)

# --- files -------------------------------------------------------------------------------------


def find_by_name(d: Draw) -> Instance:
    folder = d.choice(FOLDERS)
    sub = d.choice(("2024", "old", "q3", "shared", "team"))
    name = d.pick("name", [f"{s}.{e}" for s in STEMS for e in ("md", "txt", "csv")])
    where = f"{folder}/{sub}"
    decoys = {f"{f}/{d.choice(STEMS)}.log": "x\n" for f in d.sample(FOLDERS, 2, avoid=[folder])}
    return d.instance(
        files={f"{where}/{name}": f"{d.choice(SENTENCES)}\n"} | decoys,
        read_only=True,
        expect_first_tool=("glob", "grep", "list_dir", "shell"),
        checks=checks(answer={"contains": [where]}),
        gold=Solution((Call("glob", {"pattern": f"**/{name}"}),), f"{where}/{name}", (where,)),
    )


FIND_BY_NAME = Family(
    name="breadth-find-by-name",
    split="dev",
    kind="files",
    wordings=(
        "Where is {name}?",
        "find the file {name} for me",
        "Which folder is {name} saved in?",
        "path of {name}?",
    ),
    build=find_by_name,
)


# --- writing -----------------------------------------------------------------------------------


def overwrite(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    text = d.pick("text", TASK_LINES)
    old = lines(d.sample(SENTENCES, 2))
    return d.instance(
        files={path: old} | other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"equals": text, "not_contains": old.split("\n")[0]}}),
        gold=Solution((Call("write_file", {"path": path, "content": f"{text}\n"}),), "Done."),
    )


OVERWRITE = Family(
    name="breadth-overwrite-file",
    split="dev",
    kind="write",
    wordings=(
        "Replace everything in {path} with: {text}",
        "{path} should only say {text} from now on",
        "Overwrite {path} so that it reads {text}.",
        "can you clear out {path} and put {text} in it?",
    ),
    build=overwrite,
)


def empty_file(d: Draw) -> Instance:
    folder = d.choice(("", *FOLDERS[:4]))
    path = d.let("path", f"{folder}/{d.choice(STEMS)}.txt".lstrip("/"))
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file", "shell"),
        checks=checks(files={path: {"equals": ""}}),
        gold=Solution((Call("write_file", {"path": path, "content": ""}),), f"Created {path}."),
    )


EMPTY_FILE = Family(
    name="breadth-create-empty-file",
    split="dev",
    kind="write",
    wordings=(
        "Create an empty file named {path}.",
        "make a blank {path}",
        "I need an empty file at {path}",
        "Could you start a new, empty {path}?",
    ),
    build=empty_file,
)


def json_setting(d: Draw) -> Instance:
    path = d.pick("path", ("settings.json", "config.json", "app.json", "conf/options.json"))
    key = d.pick("key", ("timeout", "retries", "port", "workers", "limit"))
    value = d.number("value", 2, 9000)
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"json_path": {"path": key, "equals": value}}}),
        gold=Solution(
            (Call("write_file", {"path": path, "content": f'{{"{key}": {value}}}\n'}),), "Done."
        ),
    )


JSON_SETTING = Family(
    name="breadth-write-json-setting",
    split="dev",
    kind="write",
    wordings=(
        "Create {path} with JSON that sets {key} to {value}.",
        "make a json file {path} where {key} is {value}",
        "I need {path} to hold a JSON object with {key} = {value}.",
        "Could you save {key}: {value} as JSON in {path}?",
    ),
    build=json_setting,
)


# --- editing -----------------------------------------------------------------------------------


def insert_after(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in ("todo", "tasks", "plan", "chores")])
    rows = d.sample(TASK_LINES, 3)
    anchor = d.pick("anchor", rows[:2])
    line = d.pick("line", TASK_LINES, avoid=rows)
    after = rows[: rows.index(anchor) + 1] + [line] + rows[rows.index(anchor) + 1 :]
    return d.instance(
        files={path: lines(rows)},
        expect_first_tool=("edit_file",),
        checks=checks(files={path: {"equals": lines(after).rstrip("\n")}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {
                        "path": path,
                        "old_string": f"{anchor}\n",
                        "new_string": f"{anchor}\n{line}\n",
                    },
                ),
            ),
            "Done.",
        ),
    )


INSERT_AFTER = Family(
    name="breadth-insert-after-line",
    split="dev",
    kind="edit",
    wordings=(
        "In {path}, add {line} right after {anchor}.",
        "put '{line}' below the line '{anchor}' in {path}",
        "{path} needs {line} after {anchor}",
        "Could you insert {line} under {anchor} in {path}?",
    ),
    build=insert_after,
)


# --- two steps ---------------------------------------------------------------------------------


def first_line_to_file(d: Draw) -> Instance:
    src = d.pick("src", [f"{s}.txt" for s in STEMS])
    dst = d.pick("dst", ("first.txt", "headline.txt", "top.txt", "out/first_line.txt"))
    rows = d.sample(SENTENCES, 3)
    return d.instance(
        files={src: lines(rows)},
        expect_first_tool=("read_file",),
        checks=checks(
            files={dst: {"contains": rows[0], "not_contains": rows[1]}, src: {"unchanged": True}}
        ),
        gold=Solution(
            (
                Call("read_file", {"path": src, "start_line": 1, "end_line": 1}),
                Call("write_file", {"path": dst, "content": f"{rows[0]}\n"}),
            ),
            f"Saved to {dst}.",
        ),
    )


FIRST_LINE_TO_FILE = Family(
    name="breadth-first-line-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Copy the first line of {src} into {dst}.",
        "save line 1 of {src} as {dst}",
        "I want {dst} to contain just the opening line of {src}.",
        "can you take the top line from {src} and write it to {dst}?",
    ),
    build=first_line_to_file,
)


def matches_to_file(d: Draw) -> Instance:
    src = d.pick("src", ("app.log", "server.log", "notes.txt", "journal.txt"))
    word = d.pick("word", ("ERROR", "TODO", "urgent", "refund"))
    dst = d.pick("dst", ("matches.txt", "found.txt", "filtered.txt", "out/hits.txt"))
    hits = [f"{word} {w}" for w in d.sample(WORDS, 2)]
    rows = d.shuffled([*hits, *d.sample(SENTENCES, 3)])
    kept = [r for r in rows if word in r]
    return d.instance(
        files={src: lines(rows)},
        expect_first_tool=("grep",),
        checks=checks(
            files={
                dst: {"contains": kept, "not_contains": [r for r in rows if r not in kept][0]},
                src: {"unchanged": True},
            }
        ),
        gold=Solution(
            (
                Call("grep", {"pattern": word, "path": src}),
                Call("write_file", {"path": dst, "content": lines(kept)}),
            ),
            f"Saved {len(kept)} lines to {dst}.",
        ),
    )


MATCHES_TO_FILE = Family(
    name="breadth-matches-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Save every line of {src} that mentions {word} to {dst}.",
        "put the {word} lines from {src} into {dst}",
        "I need {dst} with only the lines of {src} containing {word}.",
        "Could you grep {word} in {src} and write the results to {dst}?",
    ),
    build=matches_to_file,
)


FAMILIES = (
    FIND_BY_NAME,
    OVERWRITE,
    EMPTY_FILE,
    JSON_SETTING,
    INSERT_AFTER,
    FIRST_LINE_TO_FILE,
    MATCHES_TO_FILE,
)
