"""Dev families for the typed operations and line positions the other dev
modules leave unexercised: repeats removed into another file, a backup
copy, the n-th line, counting one word, ordering into
another file, computing then saving, a figure over two files, deleting or
adding a line, a nested field, and whether a file exists.

Written from the operations' own descriptions (issue 25's list of what
users ask), never from a held-out text; each has wordings in the forms a
user uses (imperative, question, indirect, terse). Three written here were
left out because a held-out family carries the same name (the duplicate-name
check said so): whatever the held-out split measures of those intents stays
unseen in training.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    PEOPLE,
    SENTENCES,
    STEMS,
    TASK_LINES,
    WORDS,
    checks,
    distinct_numbers,
    lines,
    words_regex,
    yes_no,
)


def _by_hand(src: str, dst: str, content: str, answer: str) -> Solution:
    """Read ``src`` and write ``dst`` whole (for a typed op that is not there)."""
    calls = (
        Call("read_file", {"path": src}),
        Call("write_file", {"path": dst, "content": content}),
    )
    return Solution(calls, answer)


# --- remove repeated lines ------------------------------------------------------------------


def _with_repeats(d: Draw, pool: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Lines with some repeated, and the same without the repeats."""
    unique = d.sample(pool, d.randint(4, 6))
    repeated = d.sample(unique, d.randint(1, 3))
    body = d.shuffled([*unique, *repeated])
    while body[: len(unique)] == unique and len(body) > len(unique):
        body = d.shuffled(body)
    seen: set[str] = set()
    kept = [x for x in body if not (x in seen or seen.add(x))]
    return body, kept


def dedupe_to_file(d: Draw) -> Instance:
    src = d.let("src", f"{d.choice(('visitors', 'signups', 'emails', 'attendance'))}.txt")
    dst = d.let("dst", f"{d.choice(('unique', 'clean', 'distinct'))}_{src}")
    body, kept = _with_repeats(d, PEOPLE)
    return d.instance(
        files={src: lines(body)},
        expect_first_tool=("dedupe_lines", "read_file"),
        checks=checks(files={dst: {"equals": lines(kept)}, src: {"unchanged": True}}),
        gold=Solution((Call("dedupe_lines", {"path": src, "destination": dst}),), f"Wrote {dst}."),
        fallback=_by_hand(src, dst, lines(kept), f"Wrote {dst}."),
    )


DEDUPE_TO_FILE = Family(
    name="dedupe-to-file",
    split="dev",
    kind="edit",
    wordings=(
        "Write the names in {src} to {dst} with each name only once.",
        "Can you save a copy of {src} without duplicates as {dst}? Leave {src} alone.",
        "I need {dst}: the lines of {src} minus the repeated ones.",
        "{src} -> {dst}, no duplicate lines",
    ),
    build=dedupe_to_file,
)


# --- back a file up ---------------------------------------------------


def backup_copy(d: Draw) -> Instance:
    stem = d.choice(STEMS)
    src = d.let("src", f"{stem}.{d.choice(('txt', 'md'))}")
    dst = d.let("dst", f"{stem}.bak")
    text = lines(d.sample(TASK_LINES, 3))
    return d.instance(
        files={src: text},
        may_change=(dst,),
        expect_first_tool=("copy_file", "read_file", "shell"),
        checks=checks(files={dst: {"equals": text}, src: {"unchanged": True}}),
        gold=Solution(
            (Call("copy_file", {"source": src, "destination": dst}),), f"Copied to {dst}."
        ),
        fallback=_by_hand(src, dst, text, f"Copied to {dst}."),
    )


BACKUP_COPY = Family(
    name="backup-copy",
    split="dev",
    kind="files",
    wordings=(
        "Make a backup of {src} called {dst}.",
        "Before I change {src}, can you duplicate it as {dst}?",
        "I'd like a spare copy of {src} saved as {dst}.",
        "backup {src} to {dst}",
    ),
    build=backup_copy,
)


# --- the n-th line ------------------------------------------------------------


ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def nth_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('steps', 'queue', 'todo', 'agenda'))}.txt")
    entries = d.sample(TASK_LINES, 6)
    n = d.number("n", 2, 5)
    d.let("nth", ORDINALS[n])
    wanted = entries[n - 1]
    return d.instance(
        files={path: lines(entries)},
        read_only=True,
        expect_first_tool=("read_file",),
        checks=checks(
            answer={
                "regex": f"(?i){words_regex(wanted)}",
                "not_contains": [entries[n], entries[n - 2]],
            }
        ),
        gold=Solution(
            (Call("read_file", {"path": path, "start_line": n, "end_line": n}),), wanted, (wanted,)
        ),
        fallback=Solution((Call("read_file", {"path": path}),), wanted, (wanted,)),
    )


NTH_LINE = Family(
    name="read-nth-line",
    split="dev",
    kind="read",
    wordings=(
        "What does line {n} of {path} say?",
        "Read me the {nth} line in {path}.",
        "Which task is {nth} in {path}?",
        "{path} line {n}",
    ),
    build=nth_line,
)


# --- how often one word occurs --------------------------------------------------------------


def count_word(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('story', 'minutes', 'transcript', 'notes'))}.txt")
    word = d.pick("word", CITIES)
    times = d.randint(2, 6)
    filler = d.sample(SENTENCES, 6)
    body = [f"{s[:-1]} near {word}." if i < times else s for i, s in enumerate(filler)]
    body = d.shuffled(body)
    return d.instance(
        files={path: lines(body)},
        read_only=True,
        expect_first_tool=("count", "grep", "read_file", "shell"),
        checks=checks(answer={"number": times}),
        gold=Solution(
            (Call("count", {"path": path, "text": word}),),
            f"{word} appears {times} times.",
            (str(times),),
        ),
        fallback=Solution(
            (Call("grep", {"pattern": word, "path": path}),), f"{word} appears {times} times."
        ),
    )


COUNT_WORD = Family(
    name="count-word",
    split="dev",
    kind="count",
    wordings=(
        "How many times is {word} mentioned in {path}?",
        "Count the occurrences of {word} in {path}.",
        "I'm curious how often {path} brings up {word}.",
        "number of {word} in {path}?",
    ),
    build=count_word,
)


# --- order numbers into another file --------------------------------------------------------


def sort_desc_to_file(d: Draw) -> Instance:
    src = d.let("src", f"{d.choice(('scores', 'points', 'results', 'times'))}.txt")
    dst = d.let("dst", f"{d.choice(('ranked', 'top', 'sorted'))}.txt")
    numbers = [str(n) for n in d.sample([str(n) for n in range(10, 99)], 6)]
    ordered = sorted(numbers, key=int, reverse=True)
    while numbers == ordered:
        numbers = d.shuffled(numbers)
    return d.instance(
        files={src: lines(numbers)},
        expect_first_tool=("sort_lines", "read_file", "shell"),
        checks=checks(files={dst: {"equals": lines(ordered)}, src: {"unchanged": True}}),
        gold=Solution(
            (Call("sort_lines", {"path": src, "destination": dst, "descending": True}),),
            f"Wrote {dst}.",
        ),
        fallback=_by_hand(src, dst, lines(ordered), f"Wrote {dst}."),
    )


SORT_DESC_TO_FILE = Family(
    name="sort-desc-to-file",
    split="dev",
    kind="edit",
    wordings=(
        "Sort the numbers in {src} from highest to lowest and save them as {dst}.",
        "Could you rank {src} biggest first into {dst}, keeping {src} as it is?",
        "I need {dst} with the values of {src} in descending order.",
        "{src} high to low -> {dst}",
    ),
    build=sort_desc_to_file,
)


# --- compute, then save -----------------------------------------------------------------------


def calc_to_file(d: Draw) -> Instance:
    a, b = d.number("a", 13, 97), d.number("b", 3, 19)
    dst = d.let("dst", f"{d.choice(('answer', 'result', 'product', 'out'))}.txt")
    value = a * b
    return d.instance(
        files={"readme.txt": "Scratch space.\n"},
        may_change=(dst,),
        expect_first_tool=("calculator",),
        checks=checks(files={dst: {"regex": rf"\A\s*{value}\s*\Z"}}),
        gold=Solution(
            (
                Call("calculator", {"expression": f"{a} * {b}"}),
                Call("write_file", {"path": dst, "content": f"{value}\n"}),
            ),
            f"Wrote {value} to {dst}.",
        ),
    )


CALC_TO_FILE = Family(
    name="calc-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Multiply {a} by {b} and write the result to {dst}.",
        "What's {a} times {b}? Put just the number in {dst}.",
        "I need {dst} to contain the product of {a} and {b}.",
        "{a}*{b} into {dst}",
    ),
    build=calc_to_file,
)


# --- one figure over two files ------------------------------------------------------------------


def total_of_two(d: Draw) -> Instance:
    month_a, month_b = d.sample(("january", "february", "march", "april", "may", "june"), 2)
    a = d.let("a", f"{month_a}.txt")
    b = d.let("b", f"{month_b}.txt")
    x, y = distinct_numbers(d.rng, 2, 120, 980)
    total = x + y
    return d.instance(
        files={a: f"Month: {month_a}\nTotal: {x}\n", b: f"Month: {month_b}\nTotal: {y}\n"},
        read_only=True,
        expect_first_tool=("read_field", "read_file"),
        checks=checks(answer={"number": total}),
        gold=Solution(
            (
                Call("read_field", {"path": a, "key": "Total"}),
                Call("read_field", {"path": b, "key": "Total"}),
                Call("calculator", {"expression": f"{x} + {y}"}),
            ),
            f"Together: {total}.",
        ),
        fallback=Solution(
            (
                Call("read_file", {"path": a}),
                Call("read_file", {"path": b}),
                Call("calculator", {"expression": f"{x} + {y}"}),
            ),
            f"Together: {total}.",
        ),
    )


TOTAL_OF_TWO = Family(
    name="total-of-two-files",
    split="dev",
    kind="multi_step",
    wordings=(
        "Add up the totals in {a} and {b}.",
        "What do the Total lines of {a} and {b} come to together?",
        "I need the combined total of {a} plus {b}.",
        "sum of totals {a} {b}",
    ),
    build=total_of_two,
)


# --- delete a line, add one at the top ------------------------------------------------------


def delete_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('todo', 'chores', 'errands'))}.txt")
    entries = d.sample(TASK_LINES, 5)
    gone = d.pick("line", entries)
    kept = [e for e in entries if e != gone]
    return d.instance(
        files={path: lines(entries)},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"not_contains": [gone], "contains": kept}}),
        gold=Solution(
            (Call("edit_file", {"path": path, "old_string": f"{gone}\n", "new_string": ""}),),
            "Removed.",
        ),
    )


DELETE_LINE = Family(
    name="delete-line",
    split="dev",
    kind="edit",
    wordings=(
        "Delete the line '{line}' from {path}.",
        "I already did '{line}', can you take it off {path}?",
        "{path} shouldn't list '{line}' any more.",
        "remove {line} from {path}",
    ),
    build=delete_line,
)


def add_heading(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(STEMS)}.md")
    title = d.let("title", f"# {d.choice(WORDS).title()} {d.choice(('notes', 'plan', 'ideas'))}")
    body = d.sample(SENTENCES, 3)
    return d.instance(
        files={path: lines(body)},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"regex": rf"\A{words_regex(title)}\s*\n", "contains": body}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {"path": path, "old_string": body[0], "new_string": f"{title}\n{body[0]}"},
                ),
            ),
            "Added the heading.",
        ),
    )


ADD_HEADING = Family(
    name="add-heading",
    split="dev",
    kind="edit",
    wordings=(
        "Put the heading '{title}' at the top of {path}.",
        "Can {path} start with a '{title}' line?",
        "I want '{title}' as the first line of {path}, above what's there.",
        "prepend {title} to {path}",
    ),
    build=add_heading,
)


# --- a nested field, whether a file exists --------------------------------------------------


def nested_field(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('service', 'deploy', 'app'))}.json")
    section = d.pick("section", ("database", "cache", "queue"))
    field_ = d.pick("field", ("host", "user"))
    hosts = [f"{c.lower()}-{d.randint(1, 9)}.internal" for c in d.sample(CITIES, 3)]
    users = d.sample([p.lower() for p in PEOPLE], 3)
    sections = ("database", "cache", "queue")
    values = {s: {"host": h, "user": u} for s, h, u in zip(sections, hosts, users, strict=True)}
    wanted = values[section][field_]
    others = [v[field_] for s, v in values.items() if s != section]
    body = (
        "{"
        + ", ".join(
            f'"{s}": {{"host": "{v["host"]}", "user": "{v["user"]}"}}' for s, v in values.items()
        )
        + "}"
    )
    return d.instance(
        files={path: body + "\n"},
        read_only=True,
        expect_first_tool=("read_field", "read_file"),
        checks=checks(answer={"contains": [wanted], "not_contains": others}),
        gold=Solution(
            (Call("read_field", {"path": path, "key": f"{section}.{field_}"}),), wanted, (wanted,)
        ),
        fallback=Solution((Call("read_file", {"path": path}),), wanted, (wanted,)),
    )


NESTED_FIELD = Family(
    name="read-nested-field",
    split="dev",
    kind="read",
    wordings=(
        "What is the {section} {field} in {path}?",
        "Which {field} does {path} configure for the {section}?",
        "Look up {section}.{field} in {path} for me.",
        "{path} {section} {field}",
    ),
    build=nested_field,
)


def file_exists(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    names = [f"{s}.txt" for s in d.sample(STEMS, 4)]
    present = d.rng.random() < 0.5
    asked = d.pick(
        "name", names if present else [f"{s}.txt" for s in STEMS if f"{s}.txt" not in names]
    )
    shown = names[:3] + ([asked] if present and asked not in names[:3] else [])
    return d.instance(
        files={f"{folder}/{n}": "x\n" for n in shown},
        read_only=True,
        expect_first_tool=("list_dir", "glob", "read_file", "shell"),
        checks=checks(answer=yes_no(present)),
        gold=Solution(
            (Call("list_dir", {"path": folder}),),
            "Yes, it is there." if present else "No, it is not.",
        ),
    )


FILE_EXISTS = Family(
    name="file-exists-yesno",
    split="dev",
    kind="files",
    wordings=(
        "Is there a file called {name} in {folder}?",
        "Does {folder}/ contain {name}?",
        "check whether {name} exists in the {folder} folder",
        "{name} in {folder}? yes or no",
    ),
    build=file_exists,
)


FAMILIES: tuple[Family, ...] = (
    DEDUPE_TO_FILE,
    BACKUP_COPY,
    NTH_LINE,
    COUNT_WORD,
    SORT_DESC_TO_FILE,
    CALC_TO_FILE,
    TOTAL_OF_TWO,
    DELETE_LINE,
    ADD_HEADING,
    NESTED_FIELD,
    FILE_EXISTS,
)
