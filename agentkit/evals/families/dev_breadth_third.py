"""Dev families, third wave: intents the first two waves lacked.

The second wave (``dev_breadth_asks``, ``dev_breadth_changes``) trained the
adapter on 21 more intents and held-out rose from 22 to 30 of 167, more
than any rule had. These 15 go on from the same list of what users ask and
the tools' own descriptions: a range of lines, a page saved to a file or
its first line, how many files mention a word, a line put at the top, a
word capitalised, a preference to remember, whether a fact was told, the
numbers of a file added up (and saved), hours to minutes, a percent
change, a sentence's last word, the items of a list counted, a file of two
lines. Eight are in the suite; seven are trained on only
(``TRAINING_ONLY``), so that held-out stays over 28% of the suite's
families. None was written from a held-out case; intents named in
docs/evals.md as held-out (the last line, moving into a folder) stay out.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_knowledge import no_tool_instance
from agentkit.evals.families.dev_tools import calc_instance
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


def capitalise(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    word = d.pick("word", ("paris", "monday", "amazon", "python", "europe", "london"))
    rows = [f"we met in {word} last year", d.choice(SENTENCES), f"back to {word} soon"]
    upper = word.capitalize()
    return d.instance(
        files={path: lines(rows)},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(
            files={
                path: {"contains": [f"in {upper} last", f"to {upper} soon"], "not_contains": [word]}
            }
        ),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {"path": path, "old_string": word, "new_string": upper, "replace_all": True},
                ),
            ),
            "Done.",
        ),
    )


CAPITALISE = Family(
    name="breadth3-capitalise-word",
    split="dev",
    kind="edit",
    wordings=(
        "Capitalise {word} everywhere in {path}.",
        "{word} should have a capital letter in {path}, fix every one",
        "In {path}, make each {word} start with an upper-case letter.",
        "can you capitalize every {word} in {path}?",
    ),
    build=capitalise,
)


# --- memory ------------------------------------------------------------------------------------

PREFERENCES = (
    ("oat milk in my coffee", "oat milk"),
    ("window seats on trains", "window seats"),
    ("meetings after 10am", "after 10am"),
    ("replies in Spanish", "Spanish"),
    ("tabs over spaces", "tabs"),
)


def remember_preference(d: Draw) -> Instance:
    pref, value = PREFERENCES[d.randint(0, len(PREFERENCES) - 1)]
    d.let("pref", pref)
    return d.instance(
        read_only=True,
        expect_first_tool=("remember",),
        checks=checks(memory={"contains": [value]}),
        gold=Solution((Call("remember", {"text": f"I prefer {pref}"}),), "Noted.", (value,)),
    )


REMEMBER_PREFERENCE = Family(
    name="breadth3-remember-preference",
    split="dev",
    kind="memory",
    wordings=(
        "I prefer {pref}, keep that in mind.",
        "fyi I like {pref}",
        "Make a note that my preference is {pref}.",
        "Store this for next time: I prefer {pref}.",
    ),
    build=remember_preference,
)


TOLD = {
    "car": ("The user drives a {v}.", ("Volvo", "Fiat", "Skoda", "Mazda")),
    "gym": ("The user's gym is {v}.", ("Iron Works", "FitBox", "Pulse Club", "Move Hall")),
    "doctor": ("The user's doctor is Dr. {v}.", ("Okoro", "Lindqvist", "Marsh", "Haddad")),
    "birthday": ("The user's birthday is {v}.", ("3 March", "19 July", "8 October", "27 May")),
}


def recall_told(d: Draw) -> Instance:
    topic = d.pick("topic", tuple(TOLD))
    template, options = TOLD[topic]
    value = d.choice(options)
    other_topic = d.choice([t for t in TOLD if t != topic])
    other_template, other_options = TOLD[other_topic]
    return d.instance(
        memories=(template.format(v=value), other_template.format(v=d.choice(other_options))),
        read_only=True,
        expect_first_tool=("recall",),
        checks=checks(answer={"contains": [value]}),
        gold=Solution((Call("recall", {"query": topic}),), f"Yes: your {topic} is {value}."),
    )


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


def _numbers_file(d: Draw) -> tuple[str, list[int]]:
    path = d.pick("path", ("costs.txt", "amounts.txt", "scores.txt", "expenses.txt", "hours.txt"))
    return path, distinct_numbers(d.rng, d.randint(3, 4), 11, 480)


def sum_file(d: Draw) -> Instance:
    path, numbers = _numbers_file(d)
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


def sum_to_file(d: Draw) -> Instance:
    path, numbers = _numbers_file(d)
    dest = d.pick("dest", ("total.txt", "sum.txt", "result.txt"))
    total = sum(numbers)
    return d.instance(
        files={path: lines([str(n) for n in numbers])},
        expect_first_tool=("read_file",),
        checks=checks(files={dest: {"contains": [str(total)]}, path: {"unchanged": True}}),
        gold=Solution(
            (
                Call("read_file", {"path": path}),
                Call("calculator", {"expression": " + ".join(map(str, numbers))}),
                Call("write_file", {"path": dest, "content": f"{total}\n"}),
            ),
            f"Wrote {total} to {dest}.",
        ),
    )


SUM_TO_FILE = Family(
    name="breadth3-sum-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Add up the numbers in {path} and save the total in {dest}.",
        "put the sum of {path} into {dest}",
        "{dest} should hold the total of the numbers in {path}",
        "Could you total {path} and write the result to {dest}?",
    ),
    build=sum_to_file,
)


# --- arithmetic --------------------------------------------------------------------------------


def hours_to_minutes(d: Draw) -> Instance:
    hours = d.number("h", 3, 40)
    return calc_instance(d, f"{hours} * 60", hours * 60)


HOURS_TO_MINUTES = Family(
    name="breadth3-calc-hours-to-minutes",
    split="dev",
    kind="calc",
    wordings=(
        "How many minutes are in {h} hours?",
        "convert {h} hours to minutes",
        "{h} h in minutes?",
        "If a job takes {h} hours, how many minutes is that?",
    ),
    build=hours_to_minutes,
)


def percent_change(d: Draw) -> Instance:
    # a multiple of 40 grows by a whole number at each of these rates
    a = 40 * d.randint(1, 9)
    rate = int(d.choice(("10", "20", "25", "50", "75")))
    b = a + a * rate // 100
    d.let("a", a)
    d.let("b", b)
    return calc_instance(d, f"({b} - {a}) / {a} * 100", rate, 0.01)


PERCENT_CHANGE = Family(
    name="breadth3-calc-percent-change",
    split="dev",
    kind="calc",
    wordings=(
        "By what percent did {a} grow to {b}?",
        "percentage increase from {a} to {b}?",
        "Sales went from {a} to {b}. How much is that in percent?",
        "what's the % change between {a} and {b}",
    ),
    build=percent_change,
)


# --- without a tool ----------------------------------------------------------------------------


def last_word(d: Draw) -> Instance:
    sentence = d.pick("sentence", SENTENCES)
    word = sentence.rstrip(".").split()[-1]
    return no_tool_instance(d, word, {"regex": rf"(?i)^\W*{word}\W*$"})


LAST_WORD = Family(
    name="breadth3-last-word",
    split="dev",
    kind="no_tool",
    wordings=(
        "What's the last word of this sentence: {sentence}",
        'Reply with only the final word of "{sentence}"',
        "last word of: {sentence}",
        "Which word ends the sentence '{sentence}'?",
    ),
    build=last_word,
)


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


# --- writing -----------------------------------------------------------------------------------


def two_lines(d: Draw) -> Instance:
    folder = d.choice(("", *FOLDERS[:3]))
    path = d.let("path", f"{folder}/{d.choice(STEMS)}.txt".lstrip("/"))
    first, second = d.sample(TASK_LINES, 2)
    d.let("first", first)
    d.let("second", second)
    return d.instance(
        files=other_file(d, path),
        expect_first_tool=("write_file",),
        checks=checks(files={path: {"regex": rf"{first}\n{second}"}}),
        gold=Solution(
            (Call("write_file", {"path": path, "content": f"{first}\n{second}\n"}),),
            f"Created {path}.",
        ),
    )


TWO_LINES = Family(
    name="breadth3-write-two-lines",
    split="dev",
    kind="write",
    wordings=(
        "Create {path} with two lines: {first} and {second}.",
        "new file {path}, line one {first}, line two {second}",
        "I need {path} to list {first} then {second}, one per line",
        "Write {first} on the first line of a new {path} and {second} on the second.",
    ),
    build=two_lines,
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
# Trained on, not in the suite: eight more dev families would put held-out
# under 28% of the families (tests/test_evals_builtin.py).
TRAINING_ONLY = (
    CAPITALISE,
    REMEMBER_PREFERENCE,
    SUM_TO_FILE,
    HOURS_TO_MINUTES,
    PERCENT_CHANGE,
    LAST_WORD,
    TWO_LINES,
)
