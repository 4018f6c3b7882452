"""Held-out families: reading, finding, counting and moving files.

Held out: only the aggregate score of these families is ever read. Do not
quote them elsewhere or tune anything against their failures.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_read import journal_lines
from agentkit.evals.families.vocab import (
    FOLDERS,
    MONTHS,
    PEOPLE,
    SENTENCES,
    STEMS,
    WORDS,
    checks,
    distinct_numbers,
    join_and,
    lines,
    yes_no,
)

# --- read -----------------------------------------------------------------------------------


def last_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('visits', 'timeline', 'changelog', 'history'))}.txt")
    rows = journal_lines(d, d.randint(3, 6))
    date, text = rows[-1]
    answer = f"{date} {text}"
    return d.instance(
        files={path: lines(f"{a} {b}" for a, b in rows)},
        read_only=True,
        expect_first_tool=("read_file", "shell"),
        checks=checks(answer={"contains": [date], "not_contains": [r[0] for r in rows[:-1]]}),
        gold=Solution((Call("read_file", {"path": path, "start_line": -1}),), answer, (date,)),
        fallback=Solution((Call("read_file", {"path": path}),), answer, (date,)),
    )


LAST_LINE = Family(
    name="read-last-line",
    split="heldout",
    kind="read",
    wordings=(
        "What's the last line of {path}?",
        "Show me the final entry in {path}.",
        "I only care about the most recent line saved in {path}. What does it say?",
        "last line {path}",
        "could you read out the bottom line of {path}?",
    ),
    build=last_line,
)


def is_sorted(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('roster', 'invitees', 'contacts', 'signups'))}.txt")
    names = d.sample(PEOPLE, d.randint(4, 6))
    ordered = d.rng.random() < 0.5
    rows = sorted(names) if ordered else names
    if not ordered and rows == sorted(rows):
        rows = [*rows[1:], rows[0]]
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("read_file", "shell"),
        checks=checks(answer=yes_no(ordered)),
        gold=Solution(
            (Call("read_file", {"path": path}),),
            "Yes, it is in alphabetical order." if ordered else "No, it is not in order.",
        ),
    )


IS_SORTED = Family(
    name="read-is-sorted",
    split="heldout",
    kind="read",
    wordings=(
        "Is {path} sorted alphabetically?",
        "Check if the names in {path} are in A-Z order and answer yes or no.",
        "I wonder whether {path} was sorted already. Yes or no?",
        "{path} sorted? yes/no",
        "Are the lines kept in alphabetical order in {path}?",
    ),
    build=is_sorted,
)


def highest_total(d: Draw) -> Instance:
    folder = d.pick("folder", ("invoices", "bills", "orders", "quotes"))
    months = d.sample([m.lower()[:3] for m in MONTHS], 3)
    totals = distinct_numbers(d.rng, 3, 120, 990)
    files = {
        f"{folder}/{m}.txt": f"Client: {d.choice(PEOPLE)}\nTotal: {t} EUR\n"
        for m, t in zip(months, totals, strict=True)
    }
    best = months[totals.index(max(totals))]
    others = [f"{m}.txt" for m in months if m != best]
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("grep", "read_file", "list_dir", "glob", "shell"),
        checks=checks(answer={"contains": [f"{best}.txt"], "not_contains": others}),
        gold=Solution(
            (Call("grep", {"pattern": "Total", "path": folder}),),
            f"{folder}/{best}.txt ({max(totals)} EUR)",
            (str(max(totals)),),
        ),
    )


HIGHEST_TOTAL = Family(
    name="read-highest-total",
    split="heldout",
    kind="read",
    wordings=(
        "Which file in {folder} has the highest total?",
        "Compare the totals of the files in {folder} and tell me which is biggest.",
        "I need to know which {folder} file has the largest total amount.",
        "biggest total in {folder}/?",
    ),
    build=highest_total,
)


# --- search ---------------------------------------------------------------------------------


def locate(d: Draw) -> Instance:
    name = d.pick("name", ("settings.yaml", "schema.sql", "logo.svg", "Dockerfile", "deps.lock"))
    parts = d.sample(FOLDERS, 2)
    where = f"{parts[0]}/{parts[1]}"
    decoy_dir = d.choice(FOLDERS, avoid=parts)
    files = {
        f"{where}/{name}": "x\n",
        f"{where}/{d.choice(STEMS)}.txt": "y\n",
        f"{decoy_dir}/{d.choice(STEMS)}.md": "z\n",
    }
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("glob", "shell", "grep", "list_dir"),
        checks=checks(answer={"contains": [f"{where}/{name}", f"{where}/"]}),
        gold=Solution((Call("glob", {"pattern": f"**/{name}"}),), f"{where}/{name}", (where,)),
    )


LOCATE = Family(
    name="find-file-location",
    split="heldout",
    kind="search",
    wordings=(
        "Where is {name} in this project?",
        "Find {name} for me and give me its path.",
        "I can't remember which folder {name} was saved in.",
        "path of {name}?",
    ),
    build=locate,
)


def empty_files(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    stems = d.sample(STEMS, 4)
    empties = [f"{s}.txt" for s in stems[: d.randint(1, 2)]]
    full = [f"{s}.txt" for s in stems if f"{s}.txt" not in empties]
    files = {f"{folder}/{n}": "" for n in empties}
    files |= {f"{folder}/{n}": f"{d.choice(SENTENCES)}\n" for n in full}
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("list_dir", "shell", "glob", "count"),
        checks=checks(answer={"contains_all": empties, "not_contains": full}),
        gold=Solution(
            (Call("list_dir", {"path": folder}),),
            join_and(empties),
            tuple(f"{n} (0 bytes)" for n in empties),
        ),
    )


EMPTY_FILES = Family(
    name="find-empty-files",
    split="heldout",
    kind="search",
    wordings=(
        "Which files in {folder} are empty?",
        "List the empty files in {folder}.",
        "Some files in {folder} were made but never filled in. Which ones?",
        "empty files under {folder}?",
    ),
    build=empty_files,
)


# --- count ----------------------------------------------------------------------------------


def count_matches(d: Draw) -> Instance:
    word = d.pick("word", WORDS)
    path = d.let("path", f"{d.choice(('poem', 'lyrics', 'chant', 'draft'))}.txt")
    k = d.randint(2, 5)
    plain = [s for s in SENTENCES if word not in s.lower()]
    rows = [f"The {word} was there again." for _ in range(k)] + d.sample(plain, 3)
    rows = d.shuffled(rows)
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("count", "grep", "shell", "read_file"),
        checks=checks(answer={"number": k}),
        gold=Solution((Call("count", {"path": path, "text": word}),), f"{k} times.", (str(k),)),
        fallback=Solution((Call("grep", {"pattern": word, "path": path}),), f"{k} times."),
    )


COUNT_MATCHES = Family(
    name="count-matches",
    split="heldout",
    kind="count",
    wordings=(
        "How many times does {word} appear in {path}?",
        "Count the occurrences of {word} in {path}.",
        "I'd like to know how often the word {word} is used in {path}.",
        "number of '{word}' in {path}",
    ),
    build=count_matches,
)


def count_of_type(d: Draw) -> Instance:
    folder = d.pick("folder", ("data", "exports", "downloads", "assets"))
    ext = d.pick("ext", (".csv", ".pdf", ".png", ".json"))
    k = d.randint(2, 5)
    stems = d.sample(WORDS, k + 3)
    files = {f"{folder}/{s}{ext}": "x\n" for s in stems[:k]}
    other = d.choice([e for e in (".txt", ".md", ".log") if e != ext])
    files |= {f"{folder}/{s}{other}": "y\n" for s in stems[k : k + 2]}
    files[f"{stems[-1]}{ext}"] = "z\n"  # the right type, outside the folder
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("count", "glob", "list_dir", "shell"),
        checks=checks(answer={"number": k}),
        gold=Solution((Call("count", {"path": folder}),), f"{k} {ext} files.", (str(k),)),
        fallback=Solution(
            (Call("glob", {"pattern": f"*{ext}", "path": folder}),), f"{k} {ext} files."
        ),
    )


COUNT_OF_TYPE = Family(
    name="count-files-of-type",
    split="heldout",
    kind="count",
    wordings=(
        "How many {ext} files are in {folder}?",
        "Count the {ext} files in the {folder} folder.",
        "I need the number of {ext} files stored in {folder}.",
        "{ext} count in {folder}/",
    ),
    build=count_of_type,
)


# --- whole files ----------------------------------------------------------------------------


def move_into(d: Draw) -> Instance:
    name = d.pick("name", [f"{s}.txt" for s in STEMS])
    folder = d.pick("folder", FOLDERS)
    text = f"{d.choice(SENTENCES)}\nSigned, {d.choice(PEOPLE)}\n"
    keep = f"{folder}/{d.choice(STEMS, avoid=[name.split('.')[0]])}.md"
    return d.instance(
        files={name: text, keep: "# kept\n"},
        expect_first_tool=("move_file", "shell"),
        checks=checks(
            files={
                f"{folder}/{name}": {"equals": text},
                name: {"absent": True},
                keep: {"unchanged": True},
            }
        ),
        gold=Solution(
            (Call("move_file", {"source": name, "destination": f"{folder}/{name}"}),), "Moved."
        ),
        fallback=Solution((Call("shell", {"command": f"mv {name} {folder}/"}),), "Moved."),
    )


MOVE_INTO = Family(
    name="move-into-folder",
    split="heldout",
    kind="files",
    wordings=(
        "Move {name} into the {folder} folder.",
        "Can you put {name} in {folder}/ instead of the top level?",
        "{name} belongs in {folder}, please move it there.",
        "mv {name} to {folder}",
    ),
    build=move_into,
)


def delete_file(d: Draw) -> Instance:
    stems = d.sample(STEMS, 2)
    name = d.let("name", f"{stems[0]}.tmp")
    keep = f"{stems[1]}.txt"
    return d.instance(
        files={name: "scratch\n", keep: f"{d.choice(SENTENCES)}\n"},
        expect_first_tool=("shell",),
        checks=checks(files={name: {"absent": True}, keep: {"unchanged": True}}),
        gold=Solution((Call("shell", {"command": f"rm {name}"}),), f"Deleted {name}."),
    )


DELETE_FILE = Family(
    name="delete-file",
    split="heldout",
    kind="files",
    wordings=(
        "Delete {name}.",
        "Could you remove the file {name}? I don't need it.",
        "{name} can go, please get rid of it.",
        "rm {name} pls",
    ),
    build=delete_file,
)


FAMILIES: tuple[Family, ...] = (
    LAST_LINE,
    IS_SORTED,
    HIGHEST_TOTAL,
    LOCATE,
    EMPTY_FILES,
    COUNT_MATCHES,
    COUNT_OF_TYPE,
    MOVE_INTO,
    DELETE_FILE,
)
