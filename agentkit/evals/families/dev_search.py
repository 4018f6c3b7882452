"""Dev families: finding files (list, glob, grep) and counting (lines,
words, files). All of them only ask."""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    FOLDERS,
    SENTENCES,
    STEMS,
    TASK_LINES,
    TOPICS,
    WORDS,
    checks,
    join_and,
    lines,
)

LISTERS = ("list_dir", "glob", "shell")


# --- what is in a folder ------------------------------------------------------------------


def list_folder(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    inside = [f"{s}.{d.choice(('md', 'txt', 'csv'))}" for s in d.sample(STEMS, 3)]
    outside = [f"{s}.md" for s in d.sample(STEMS, 2, avoid=[n.split(".")[0] for n in inside])]
    files = {f"{folder}/{n}": f"{n}\n" for n in inside} | {n: f"{n}\n" for n in outside}
    answer = join_and(sorted(inside))
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=LISTERS,
        checks=checks(answer={"contains_all": inside, "not_contains": outside}),
        gold=Solution((Call("list_dir", {"path": folder}),), answer, tuple(inside)),
    )


LIST_FOLDER = Family(
    name="list-folder",
    split="dev",
    kind="search",
    wordings=(
        "What files are in the {folder} folder?",
        "List the contents of {folder}/.",
        "Could you show me what's inside {folder}?",
        "ls {folder} pls",
        "which files are kept in {folder}?",
    ),
    build=list_folder,
)


# --- files of a type under a folder -------------------------------------------------------

LANGUAGES = {"Python": "py", "Markdown": "md", "JSON": "json", "CSV": "csv", "YAML": "yaml"}


def by_type(d: Draw) -> Instance:
    lang = d.pick("lang", tuple(LANGUAGES))
    ext = d.let("ext", f".{LANGUAGES[lang]}")
    folder = d.pick("folder", ("src", "project", "app", "site"))
    other_ext = d.choice([e for e in LANGUAGES.values() if e != LANGUAGES[lang]])
    stems = d.sample(STEMS, 6)
    wanted = [f"{folder}/{stems[0]}{ext}", f"{folder}/{d.choice(FOLDERS)}/{stems[1]}{ext}"]
    decoys = [
        f"{folder}/{stems[2]}.{other_ext}",
        f"{stems[3]}{ext}",  # the right type, outside the folder
        f"{d.choice(FOLDERS)}/{stems[4]}{ext}",
    ]
    files = {p: f"{p}\n" for p in [*wanted, *decoys]}
    names = [p.rsplit("/", 1)[-1] for p in wanted]
    answer = join_and(wanted)
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("glob", "shell", "list_dir"),
        checks=checks(
            answer={
                "contains_all": names,
                "not_contains": [p.rsplit("/", 1)[-1] for p in decoys],
            }
        ),
        gold=Solution(
            (Call("glob", {"pattern": f"**/*{ext}", "path": folder}),), answer, tuple(names)
        ),
    )


BY_TYPE = Family(
    name="find-by-type",
    split="dev",
    kind="search",
    wordings=(
        "List all the {lang} files in {folder}.",
        "find every {ext} file under {folder}/",
        "Which {lang} files are inside {folder}, subfolders included?",
        "I need a list of the {ext} files that live in {folder}/.",
        "{ext} files in {folder}?",
    ),
    build=by_type,
)


# --- which file mentions a word -----------------------------------------------------------


def which_file(d: Draw) -> Instance:
    folder = d.choice(FOLDERS)
    word = d.pick("word", TOPICS)
    stems = d.sample(STEMS, 3)
    target = f"{folder}/{stems[0]}.txt"
    plain = [s for s in SENTENCES if word not in s.lower()]
    files = {
        target: f"{d.choice(plain)}\nThe {word} for March is attached.\n",
        f"{folder}/{stems[1]}.txt": f"{d.choice(plain)}\n",
        f"{folder}/{stems[2]}.txt": f"{d.choice(plain)}\n",
    }
    name = f"{stems[0]}.txt"
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("grep", "shell"),
        checks=checks(answer={"contains": [name], "not_contains": [f"{s}.txt" for s in stems[1:]]}),
        gold=Solution((Call("grep", {"pattern": word}),), f"{target}", (name,)),
    )


WHICH_FILE = Family(
    name="which-file-mentions",
    split="dev",
    kind="search",
    wordings=(
        "Which file mentions the word {word}?",
        "Search the files for {word} and tell me which file has it.",
        "I'm looking for the file that talks about the {word}.",
        "wich file has {word} in it",
        "Where is the {word} written? Which file?",
    ),
    build=which_file,
)


# --- the line number of a match -----------------------------------------------------------

LEVELS = ("ERROR", "WARNING", "CRITICAL")


def match_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('app', 'server', 'worker', 'sync'))}.log")
    marker = d.pick("marker", LEVELS)
    total = d.randint(4, 7)
    target = d.randint(2, total)
    # Timestamps use numbers of 10 and over, so only the line number can be it.
    rows = []
    for n in range(1, total + 1):
        stamp = f"{d.randint(10, 23)}:{d.randint(10, 59)}:{d.randint(10, 59)}"
        message = (
            "database unreachable"
            if n == target
            else d.choice(("starting", "listening", "retrying", "request served", "cache warm"))
        )
        rows.append(f"{stamp} {marker if n == target else 'INFO'} {message}")
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("grep", "read_file", "shell"),
        checks=checks(answer={"number": target}),
        gold=Solution(
            (Call("grep", {"pattern": marker, "path": path}),),
            f"Line {target}.",
            (f":{target}: ",),
        ),
    )


MATCH_LINE = Family(
    name="line-of-match",
    split="dev",
    kind="search",
    wordings=(
        "On which line of {path} does {marker} appear?",
        "Give me the line number of the {marker} entry in {path}.",
        "I need to know which line in {path} has the {marker}.",
        "{marker} line no. in {path}?",
    ),
    build=match_line,
)


# --- counting ---------------------------------------------------------------------------


def count_lines(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('todo', 'chores', 'errands', 'tasks'))}.txt")
    rows = d.sample(TASK_LINES, d.randint(3, 8))
    n = len(rows)
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("count", "read_file", "shell"),
        checks=checks(answer={"number": n}),
        gold=Solution((Call("count", {"path": path}),), f"{path} has {n} lines.", (str(n),)),
        fallback=Solution((Call("read_file", {"path": path}),), f"{path} has {n} lines."),
    )


COUNT_LINES = Family(
    name="count-lines",
    split="dev",
    kind="count",
    wordings=(
        "How many lines are in {path}?",
        "Count the lines of {path}.",
        "I'd like to know how long {path} is, in lines.",
        "line count {path}?",
        "how many entries are written in {path}, one per line?",
    ),
    build=count_lines,
)


def count_files(d: Draw) -> Instance:
    folder = d.pick("folder", ("images", "uploads", "photos", "scans", "exports"))
    n = d.randint(2, 7)
    names = [f"{w}.{d.choice(('png', 'jpg', 'svg'))}" for w in d.sample(WORDS, n)]
    files = {f"{folder}/{name}": "not really an image" for name in names}
    files |= {f"{d.choice(STEMS)}.md": "# Notes\n", f"{d.choice(FOLDERS)}/extra.txt": "x\n"}
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("list_dir", "glob", "count", "shell"),
        checks=checks(answer={"number": n}),
        gold=Solution(
            (Call("list_dir", {"path": folder}),), f"There are {n} files.", (f"{n} files",)
        ),
    )


COUNT_FILES = Family(
    name="count-files-in-folder",
    split="dev",
    kind="count",
    wordings=(
        "How many files are in the {folder} directory?",
        "Count the files in {folder}.",
        "can you tell me the number of files saved in {folder}?",
        "# of files in {folder}/?",
    ),
    build=count_files,
)


def count_words(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('essay', 'story', 'blurb', 'abstract'))}.txt")
    text = " ".join(d.sample(SENTENCES, d.randint(2, 4)))
    n = len(text.split())
    return d.instance(
        files={path: text + "\n"},
        read_only=True,
        expect_first_tool=("count", "shell", "read_file"),
        checks=checks(answer={"number": n}),
        gold=Solution((Call("count", {"path": path}),), f"{path} has {n} words.", (str(n),)),
        fallback=Solution((Call("shell", {"command": f"wc -w {path}"}),), f"{n} words.", (str(n),)),
    )


COUNT_WORDS = Family(
    name="count-words",
    split="dev",
    kind="count",
    wordings=(
        "How many words are in {path}?",
        "Count the words in {path}.",
        "I need the word count of {path}.",
        "wordcount {path}",
        "how many words were written in {path}?",
    ),
    build=count_words,
)


FAMILIES: tuple[Family, ...] = (
    LIST_FOLDER,
    BY_TYPE,
    WHICH_FILE,
    MATCH_LINE,
    COUNT_LINES,
    COUNT_FILES,
    COUNT_WORDS,
)
