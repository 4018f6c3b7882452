"""Dev families, third wave: intents the first two waves lacked.

The second wave (``dev_breadth_asks``, ``dev_breadth_changes``) trained the
adapter on 21 more intents and held-out rose from 22 to 30 of 167, more
than any rule had. These 15 go on from the same list of what users ask and
the tools' own descriptions: a range of lines, a page saved to a file or
its first line, how many files mention a word, a line put at the top, a
word capitalised, a preference to remember, whether a fact was told, the
numbers of a file added up (and saved), hours to minutes, a percent
change, a sentence's last word, the items of a list counted, a file of two
lines. Eight are here, in the suite; the other seven are trained on only
(``dev_breadth_training``), so that held-out stays over 28% of the suite's
families. None was written from a held-out case; intents named in
docs/evals.md as held-out (the last line, moving into a folder) stay out.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_knowledge import no_tool_instance, recall_instance
from agentkit.evals.families.dev_write import other_file
from agentkit.evals.families.vocab import (
    FOLDERS,
    ITEMS,
    SENTENCES,
    STEMS,
    TASK_LINES,
    checks,
    distinct_numbers,
    lines,
)

# --- reading -----------------------------------------------------------------------------------


def line_range(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    rows = d.sample(TASK_LINES, 6)
    first = d.randint(2, 4)
    d.let("a", first)
    d.let("b", first + 1)
    wanted = rows[first - 1 : first + 1]
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("read_file",),
        checks=checks(answer={"contains_all": wanted, "not_contains": [rows[0]]}),
        gold=Solution(
            (Call("read_file", {"path": path, "start_line": first, "end_line": first + 1}),),
            f"{wanted[0]}; {wanted[1]}",
        ),
    )


LINE_RANGE = Family(
    name="breadth3-read-line-range",
    split="dev",
    kind="read",
    wordings=(
        "Show me lines {a} to {b} of {path}.",
        "what's on lines {a}-{b} in {path}?",
        "I only need lines {a} through {b} of {path}",
        "{path} lines {a}..{b}",
    ),
    build=line_range,
)


# --- the web -----------------------------------------------------------------------------------


def page_first_line(d: Draw) -> Instance:
    page = d.pick("page", ("motd.txt", "notice.txt", "banner.txt", "news.txt"))
    rows = d.sample(SENTENCES, 3)
    return d.instance(
        http_pages={f"/{page}": lines(rows)},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer={"contains": [rows[0].rstrip(".")], "not_contains": [rows[1]]}),
        gold=Solution((Call("http_get", {"url": f"{{base_url}}/{page}"}),), rows[0]),
    )


PAGE_FIRST_LINE = Family(
    name="breadth3-http-first-line",
    split="dev",
    kind="http",
    wordings=(
        "What's the first line of {base_url}/{page}?",
        "Read me the opening line of the page {base_url}/{page}.",
        "first line @ {base_url}/{page}",
        "How does {base_url}/{page} start?",
    ),
    build=page_first_line,
)


def save_page(d: Draw) -> Instance:
    page = d.pick("page", ("motd.txt", "notice.txt", "quote.txt", "tip.txt"))
    dest = d.pick("dest", [f"{s}.txt" for s in STEMS])
    text = d.choice(SENTENCES)
    return d.instance(
        http_pages={f"/{page}": f"{text}\n"},
        files=other_file(d, dest),
        expect_first_tool=("http_get",),
        checks=checks(files={dest: {"contains": [text.rstrip(".")]}}),
        gold=Solution(
            (
                Call("http_get", {"url": f"{{base_url}}/{page}"}),
                Call("write_file", {"path": dest, "content": f"{text}\n"}),
            ),
            f"Saved to {dest}.",
        ),
    )


SAVE_PAGE = Family(
    name="breadth3-http-save-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Save the text of {base_url}/{page} to {dest}.",
        "download {base_url}/{page} into {dest}",
        "Could you keep a copy of what {base_url}/{page} says in {dest}?",
        "Fetch {base_url}/{page} and write it to {dest}.",
    ),
    build=save_page,
)


# --- searching ---------------------------------------------------------------------------------


def files_mentioning(d: Draw) -> Instance:
    word = d.pick("word", ("invoice", "deadline", "refund", "warranty", "budget"))
    folder = d.choice(FOLDERS)
    names = d.sample(STEMS, 5)
    hits = d.randint(2, 4)
    files = {
        f"{folder}/{name}.txt": (
            f"{d.choice(SENTENCES)}\nabout the {word}\n" if i < hits else f"{d.choice(SENTENCES)}\n"
        )
        for i, name in enumerate(names)
    }
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("grep", "shell"),
        checks=checks(answer={"number": hits}),
        gold=Solution((Call("grep", {"pattern": word}),), f"{hits} files."),
    )


FILES_MENTIONING = Family(
    name="breadth3-count-files-mentioning",
    split="dev",
    kind="search",
    wordings=(
        "How many files mention {word}?",
        "count the files that talk about {word}",
        "In how many of my files does {word} come up?",
        "number of files with {word} in them?",
    ),
    build=files_mentioning,
)


# --- editing -----------------------------------------------------------------------------------


def prepend_line(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in ("tasks", "todo", "list", "plan", "agenda")])
    rows = d.sample(TASK_LINES, 3)
    text = d.pick("text", TASK_LINES, avoid=rows)
    return d.instance(
        files={path: lines(rows)} | other_file(d, path),
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"equals": lines([text, *rows]).rstrip("\n")}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {
                        "path": path,
                        "old_string": f"{rows[0]}\n",
                        "new_string": f"{text}\n{rows[0]}\n",
                    },
                ),
            ),
            "Done.",
        ),
    )


PREPEND_LINE = Family(
    name="breadth3-prepend-line",
    split="dev",
    kind="edit",
    wordings=(
        "Put {text} at the top of {path}.",
        "add {text} as the first line of {path}",
        "{path} should start with {text}",
        "Can you insert {text} before everything else in {path}?",
    ),
    build=prepend_line,
)


TOLD = {
    "car": ("The user drives a {v}.", ("Volvo", "Fiat", "Skoda", "Mazda")),
    "gym": ("The user's gym is {v}.", ("Iron Works", "FitBox", "Pulse Club", "Move Hall")),
    "doctor": ("The user's doctor is Dr. {v}.", ("Okoro", "Lindqvist", "Marsh", "Haddad")),
    "birthday": ("The user's birthday is {v}.", ("3 March", "19 July", "8 October", "27 May")),
}


def recall_told(d: Draw) -> Instance:
    return recall_instance(d, TOLD, "Yes: your {topic} is {value}.")


RECALL_TOLD = Family(
    name="breadth3-recall-did-i-say",
    split="dev",
    kind="memory",
    wordings=(
        "Did I ever tell you about my {topic}?",
        "do you know anything about my {topic}",
        "What have I told you about my {topic}?",
        "Have I mentioned my {topic} before? What was it?",
    ),
    build=recall_told,
)


# --- several steps -----------------------------------------------------------------------------


def numbers_file(d: Draw) -> tuple[str, list[int]]:
    path = d.pick("path", ("costs.txt", "amounts.txt", "scores.txt", "expenses.txt", "hours.txt"))
    return path, distinct_numbers(d.rng, d.randint(3, 4), 11, 480)


def sum_file(d: Draw) -> Instance:
    path, numbers = numbers_file(d)
    total = sum(numbers)
    expression = " + ".join(map(str, numbers))
    return d.instance(
        files={path: lines([str(n) for n in numbers])},
        read_only=True,
        expect_first_tool=("read_file",),
        checks=checks(answer={"number": total}),
        gold=Solution(
            (Call("read_file", {"path": path}), Call("calculator", {"expression": expression})),
            f"{total}",
            (str(total),),
        ),
    )


SUM_FILE = Family(
    name="breadth3-sum-of-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Add up the numbers in {path}.",
        "What do the numbers in {path} come to in total?",
        "total of {path}?",
        "I need the sum of everything listed in {path}",
    ),
    build=sum_file,
)


# --- without a tool ----------------------------------------------------------------------------


def count_items(d: Draw) -> Instance:
    items = d.sample(ITEMS, d.randint(3, 7))
    d.let("items", ", ".join(items))
    return no_tool_instance(d, str(len(items)), {"number": len(items)})


COUNT_ITEMS = Family(
    name="breadth3-count-listed-items",
    split="dev",
    kind="no_tool",
    wordings=(
        "How many items are in this list: {items}?",
        "count these: {items}",
        "I wrote down {items}. How many things is that?",
        "number of entries in '{items}'?",
    ),
    build=count_items,
)


FAMILIES = (
    LINE_RANGE,
    PAGE_FIRST_LINE,
    SAVE_PAGE,
    FILES_MENTIONING,
    PREPEND_LINE,
    RECALL_TOLD,
    SUM_FILE,
    COUNT_ITEMS,
)
