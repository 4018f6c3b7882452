"""Dev families: new files (write) and whole-file operations (copy,
rename). Only the files a task names may change."""

from __future__ import annotations

from pydantic import JsonValue

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    ITEMS,
    PEOPLE,
    SENTENCES,
    STEMS,
    checks,
    join_and,
    lines,
)

PHRASES = (
    "see you at noon",
    "meeting moved to Thursday",
    "the oven is fixed",
    "back in ten minutes",
    "lunch is on me",
    "keys are under the mat",
    "call me after six",
    "the printer needs paper",
)


def other_file(d: Draw, avoid: str) -> dict[str, str]:
    """An unrelated file the task must leave alone (its stem is not
    ``avoid``'s, whatever folder ``avoid`` is in)."""
    name = f"{d.choice(STEMS, avoid=[avoid.split('/')[-1].split('.')[0]])}.md"
    return {name: f"# {name}\n{d.choice(SENTENCES)}\n"}


def new_file_instance(
    d: Draw, path: str, content: str, check: dict[str, JsonValue], answer: str = ""
) -> Instance:
    """A new ``path`` of ``content`` (one ``write_file``), beside a file the
    task must leave alone; ``answer`` defaults to "Created PATH."."""
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: check}),
        gold=Solution(
            (Call("write_file", {"path": path, "content": content}),),
            answer or f"Created {path}.",
        ),
    )


# --- a file with a given text -------------------------------------------------------------


def write_text(d: Draw) -> Instance:
    text = d.pick("text", PHRASES)
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"contains": [text]}}),
        gold=Solution((Call("write_file", {"path": path, "content": f"{text}\n"}),), "Done."),
    )


WRITE_TEXT = Family(
    name="write-text",
    split="dev",
    kind="write",
    wordings=(
        "Write the text {text} to the file {path}",
        "make a file called {path} that says {text}",
        'Save the note "{text}" in {path}',
        "Could you put the words {text} into a new file {path}?",
        "new file {path}: {text}",
    ),
    build=write_text,
    pinned={0: {"text": "hello", "path": "hello.txt"}},
)


# --- a list of items ----------------------------------------------------------------------


def write_list(d: Draw) -> Instance:
    items = d.sample(ITEMS, d.randint(3, 4))
    d.let("items", ", ".join(items))
    d.let("items_and", join_and(items))
    path = d.pick("path", ("shopping.txt", "groceries.md", "list.txt", "pantry.txt"))
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"contains": items}}),
        gold=Solution((Call("write_file", {"path": path, "content": lines(items)}),), "Done."),
    )


WRITE_LIST = Family(
    name="write-list",
    split="dev",
    kind="write",
    wordings=(
        "Create a file named {path} containing: {items}",
        "Can you make me a list in {path} with {items_and}?",
        "I need a new file called {path} that lists {items_and}.",
        "list for {path}: {items}",
    ),
    build=write_list,
)


# --- exactly one number -----------------------------------------------------------------


def write_number(d: Draw) -> Instance:
    n = d.number("n", 11, 999)
    path = d.pick("path", ("answer.txt", "result.txt", "total.txt", "score.txt"))
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"equals": str(n)}}),
        gold=Solution((Call("write_file", {"path": path, "content": str(n)}),), "Done."),
    )


WRITE_NUMBER = Family(
    name="write-exact-number",
    split="dev",
    kind="write",
    wordings=(
        "Put the number {n} in {path} and nothing else.",
        "Write {n} into {path}, nothing more.",
        "{path} should contain just the number {n}.",
        "could you save {n} to {path}? only the number",
        "just {n} in {path} pls",
    ),
    build=write_number,
)


# --- a file in a sub-folder that does not exist yet ---------------------------------------


def write_subfolder(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    name = d.pick("name", [f"{s}.txt" for s in STEMS])
    text = d.pick("text", PHRASES)
    path = f"{folder}/{name}"
    return d.instance(
        files=other_file(d, name),
        expect_first_tool=("write_file", "shell"),
        may_change=(path,),
        checks=checks(files={path: {"contains": [text]}, name: {"absent": True}}),
        gold=Solution((Call("write_file", {"path": path, "content": f"{text}\n"}),), "Done."),
    )


WRITE_SUBFOLDER = Family(
    name="write-in-subfolder",
    split="dev",
    kind="write",
    wordings=(
        "Create {folder}/{name} containing {text}.",
        "Make a new file {name} inside the {folder} folder that says {text}.",
        "I need a file called {name} in {folder}/ with the line {text}.",
        "can u write {text} to {folder}/{name}",
        "Could you please save '{text}' as {name} in the {folder} directory?",
    ),
    build=write_subfolder,
)


# --- copy and rename ----------------------------------------------------------------------


def _report_text(d: Draw) -> str:
    return (
        f"Quarterly numbers: {d.randint(10, 99)}, {d.randint(10, 99)}, {d.randint(10, 99)}\n"
        f"Prepared by {d.choice(PEOPLE)} in {d.choice(CITIES)}.\n"
    )


def copy_file(d: Draw) -> Instance:
    stem = d.choice(STEMS)
    src = d.let("src", f"{stem}.txt")
    dst = d.pick("dst", (f"{stem}_backup.txt", "backup.txt", f"{stem}.bak", f"copy_of_{stem}.txt"))
    text = _report_text(d)
    return d.instance(
        files={src: text} | other_file(d, src),
        expect_first_tool=("copy_file", "read_file", "shell"),
        checks=checks(files={dst: {"equals": text}, src: {"unchanged": True}}),
        gold=Solution((Call("copy_file", {"source": src, "destination": dst}),), "Copied."),
        fallback=Solution(
            (Call("read_file", {"path": src}), Call("write_file", {"path": dst, "content": text})),
            "Copied.",
        ),
    )


COPY_FILE = Family(
    name="copy-file",
    split="dev",
    kind="files",
    wordings=(
        "Copy the contents of {src} into {dst}",
        "Make a copy of {src} called {dst}.",
        "I need a backup of {src} saved as {dst}.",
        "cp {src} to {dst} please",
        "Could you duplicate {src} as {dst}?",
    ),
    build=copy_file,
)


def rename_file(d: Draw) -> Instance:
    stems = d.sample(STEMS, 2)
    ext = d.choice(("txt", "md", "csv"))
    src = d.let("src", f"{stems[0]}.{ext}")
    dst = d.let("dst", f"{stems[1]}_{d.choice(('final', 'old', '2024', 'v2'))}.{ext}")
    text = _report_text(d)
    return d.instance(
        files={src: text} | other_file(d, src),
        expect_first_tool=("move_file", "shell"),
        checks=checks(files={dst: {"equals": text}, src: {"absent": True}}),
        gold=Solution((Call("move_file", {"source": src, "destination": dst}),), "Renamed."),
        fallback=Solution((Call("shell", {"command": f"mv {src} {dst}"}),), "Renamed."),
    )


RENAME_FILE = Family(
    name="rename-file",
    split="dev",
    kind="files",
    wordings=(
        "Rename {src} to {dst}.",
        "Can you change the name of {src} to {dst}?",
        "{src} should be called {dst} from now on.",
        "rename {src} -> {dst}",
    ),
    build=rename_file,
)


FAMILIES: tuple[Family, ...] = (
    WRITE_TEXT,
    WRITE_LIST,
    WRITE_NUMBER,
    WRITE_SUBFOLDER,
    COPY_FILE,
    RENAME_FILE,
)
