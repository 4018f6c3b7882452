"""Dev families, second wave: more of the questions users ask.

The first dev families taught the adapter one intent per operation (a
product, a sum, a labelled value); a new user asks for the difference, the
mean, the last line, a value in a ``.env`` or a CSV row. These families
widen the intents the adapter is trained on, each in wordings that differ
in form (imperative, question, indirect, terse, a write verb inside a
question). They were written from what the tools can do, not from any
held-out case (docs/evals.md, "The split rule").
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_knowledge import no_tool_instance
from agentkit.evals.families.dev_tools import calc_instance
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    PEOPLE,
    SENTENCES,
    STEMS,
    WORDS,
    checks,
    distinct_numbers,
    lines,
    yes_no,
)

# --- arithmetic beyond the four first intents ---------------------------------------------


def subtract(d: Draw) -> Instance:
    a, b = d.number("a", 300, 2999), d.number("b", 11, 290)
    return calc_instance(d, f"{a} - {b}", a - b, 0.001)


SUBTRACT = Family(
    name="breadth-calc-subtract",
    split="dev",
    kind="calc",
    wordings=(
        "What is {a} minus {b}?",
        "Subtract {b} from {a}.",
        "if I take {b} away from {a}, what's left?",
        "{a}-{b}=",
        "How much bigger is {a} than {b}?",
    ),
    build=subtract,
)


def average(d: Draw) -> Instance:
    a, b = d.number("a", 10, 90), d.number("b", 10, 90)
    c = d.randint(10, 90)
    c += (3 - (a + b + c) % 3) % 3
    d.let("c", c)
    return calc_instance(d, f"({a} + {b} + {c}) / 3", (a + b + c) / 3, 0.001)


AVERAGE = Family(
    name="breadth-calc-average",
    split="dev",
    kind="calc",
    wordings=(
        "What's the average of {a}, {b} and {c}?",
        "Find the mean of {a}, {b}, {c}.",
        "avg of {a} {b} {c}",
        "I need the mean value of these numbers: {a}, {b}, {c}",
    ),
    build=average,
)


def power(d: Draw) -> Instance:
    a, b = d.number("a", 2, 12), d.number("b", 3, 4)
    return calc_instance(d, f"{a} ** {b}", a**b, 0.001)


POWER = Family(
    name="breadth-calc-power",
    split="dev",
    kind="calc",
    wordings=(
        "What is {a} to the power of {b}?",
        "Raise {a} to the power {b}.",
        "{a}^{b}?",
        "could you tell me what {a} raised to {b} comes to",
    ),
    build=power,
)


def remainder(d: Draw) -> Instance:
    b = d.number("b", 3, 17)
    a = d.number("a", 50, 999, avoid=range(0, 1000, b))
    return calc_instance(d, f"{a} % {b}", a % b, 0.001)


REMAINDER = Family(
    name="breadth-calc-remainder",
    split="dev",
    kind="calc",
    wordings=(
        "What's the remainder when {a} is divided by {b}?",
        "{a} mod {b}",
        "What is left over if you divide {a} by {b}?",
        "Work out {a} modulo {b} for me.",
    ),
    build=remainder,
)


def two_steps(d: Draw) -> Instance:
    a, b, c = d.number("a", 11, 99), d.number("b", 11, 99), d.number("c", 3, 12)
    return calc_instance(d, f"({a} + {b}) * {c}", (a + b) * c, 0.001)


TWO_STEPS = Family(
    name="breadth-calc-two-steps",
    split="dev",
    kind="calc",
    wordings=(
        "Add {a} and {b}, then multiply the result by {c}.",
        "What is ({a} + {b}) times {c}?",
        "sum {a} and {b} and multiply that by {c}",
        "I need {a} plus {b}, all of it times {c}.",
    ),
    build=two_steps,
)


def per_unit(d: Draw) -> Instance:
    n = d.number("n", 3, 12)
    each = d.randint(4, 60)
    total = d.let("total", n * each)
    d.pick("thing", ("ticket", "book", "chair", "lamp", "shirt"))
    return calc_instance(d, f"{total} / {n}", int(total) / n, 0.001)


PER_UNIT = Family(
    name="breadth-calc-per-unit",
    split="dev",
    kind="calc",
    wordings=(
        "{n} of them cost {total} euros in total. What does one {thing} cost?",
        "What's the price of one {thing} if {n} cost {total}?",
        "Work out the price of one {thing}: {n} cost {total} euros.",
        "I paid {total} for {n} {thing}s; price per {thing}?",
    ),
    build=per_unit,
)


# --- counting --------------------------------------------------------------------------------


def characters(d: Draw) -> Instance:
    path = d.pick("path", [f"{s}.txt" for s in STEMS])
    text = lines(d.sample(SENTENCES, d.randint(2, 4)))
    n = len(text)
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("count",),
        checks=checks(answer={"number": n}),
        gold=Solution((Call("count", {"path": path}),), f"{n} characters.", (str(n),)),
        fallback=Solution((Call("shell", {"command": f"wc -m {path}"}),), f"{n} characters."),
    )


CHARACTERS = Family(
    name="breadth-count-characters",
    split="dev",
    kind="count",
    wordings=(
        "How many characters are in {path}?",
        "Count the characters of {path}.",
        "what's the character count of {path}",
        "I'd like to know how long {path} is in characters.",
    ),
    build=characters,
)


EXTENSIONS = ("md", "txt", "csv", "json", "py", "log")


def files_of_type(d: Draw) -> Instance:
    folder = d.pick("folder", FOLDERS)
    ext, other = d.pick("ext", EXTENSIONS), d.choice(EXTENSIONS)
    other = other if other != ext else "yaml"
    n, m = d.randint(2, 5), d.randint(1, 4)
    names = d.sample(STEMS, n + m)
    files = {f"{folder}/{s}.{ext}": f"{s}\n" for s in names[:n]}
    files |= {f"{folder}/{s}.{other}": f"{s}\n" for s in names[n:]}
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("count", "glob", "list_dir"),
        checks=checks(answer={"number": n}),
        gold=Solution((Call("count", {"path": folder}),), f"{n} .{ext} files.", (f"{n} .{ext}",)),
        fallback=Solution(
            (Call("glob", {"pattern": f"*.{ext}", "path": folder}),), f"{n} .{ext} files."
        ),
    )


FILES_OF_TYPE = Family(
    name="breadth-count-files-of-type",
    split="dev",
    kind="count",
    wordings=(
        "How many .{ext} files are in {folder}?",
        "count the {ext} files inside {folder}/",
        "number of .{ext} files in the {folder} folder?",
        "I want to know how many .{ext} files sit in {folder}.",
    ),
    build=files_of_type,
)


# --- reading ---------------------------------------------------------------------------------


ENV_KEYS = {
    "LOG_LEVEL": ("debug", "info", "warning", "error"),
    "API_HOST": ("api.internal", "localhost", "10.0.0.7", "edge.example.org"),
    "REGION": ("eu-west", "us-east", "ap-south", "sa-east"),
    "DB_NAME": ("orders", "billing", "inventory", "analytics"),
}


def env_value(d: Draw) -> Instance:
    path = d.pick("path", (".env", "app.env", "config/.env"))
    keys = d.sample(tuple(ENV_KEYS), 3)
    values = {k: d.choice(ENV_KEYS[k]) for k in keys}
    key = d.pick("key", keys)
    value = values[key]
    others = [v for k, v in values.items() if k != key]
    return d.instance(
        files={path: lines(f"{k}={v}" for k, v in values.items())},
        read_only=True,
        expect_first_tool=("read_field", "read_file", "grep"),
        checks=checks(answer={"contains": [value], "not_contains": others}),
        gold=Solution((Call("read_field", {"path": path, "key": key}),), value, (value,)),
        fallback=Solution((Call("read_file", {"path": path}),), value, (value,)),
    )


ENV_VALUE = Family(
    name="breadth-read-env-value",
    split="dev",
    kind="read",
    wordings=(
        "What is {key} set to in {path}?",
        "look up {key} in {path}",
        "Which value does {path} give {key}?",
        "tell me the {key} setting saved in {path}",
    ),
    build=env_value,
)


def csv_cell(d: Draw) -> Instance:
    path = d.pick("path", ("people.csv", "staff.csv", "data/contacts.csv", "members.csv"))
    names = d.sample(PEOPLE, 3)
    cities = d.sample(CITIES, 3)
    name = d.pick("name", names)
    city = cities[names.index(name)]
    rows = [f"{n},{c},{d.randint(20, 70)}" for n, c in zip(names, cities, strict=True)]
    others = [c for c in cities if c != city]
    return d.instance(
        files={path: lines(["name,city,age", *rows])},
        read_only=True,
        expect_first_tool=("read_file", "grep"),
        checks=checks(answer={"contains": [city], "not_contains": others}),
        gold=Solution((Call("grep", {"pattern": name, "path": path}),), city, (city,)),
    )


CSV_CELL = Family(
    name="breadth-read-csv-cell",
    split="dev",
    kind="read",
    wordings=(
        "Which city is {name} in, according to {path}?",
        "{path}: {name}'s city?",
        "Look up the city of {name} in {path}.",
        "where does {name} live? it's written in {path}",
    ),
    build=csv_cell,
)


# --- answered without a tool -------------------------------------------------------------


def uppercase(d: Draw) -> Instance:
    word = d.pick("word", WORDS)
    return no_tool_instance(d, word.upper(), {"regex": rf"\b{word.upper()}\b"})


UPPERCASE = Family(
    name="breadth-uppercase-word",
    split="dev",
    kind="no_tool",
    wordings=(
        "Write {word} in capital letters.",
        "Give me the word {word} in uppercase.",
        "{word} in caps please",
        "how is {word} written in all caps?",
    ),
    build=uppercase,
)


def largest(d: Draw) -> Instance:
    a, b, c = distinct_numbers(d.rng, 3, 10, 999)
    for slot, value in zip("abc", (a, b, c), strict=True):
        d.let(slot, value)
    top = max(a, b, c)
    others = [str(n) for n in (a, b, c) if n != top]
    return no_tool_instance(d, str(top), {"number": top, "not_contains": others})


LARGEST = Family(
    name="breadth-largest-number",
    split="dev",
    kind="no_tool",
    wordings=(
        "Which is the largest: {a}, {b} or {c}?",
        "Tell me the biggest of {a}, {b} and {c}.",
        "max of {a} {b} {c}?",
        "Out of {a}, {b} and {c}, which number is highest?",
    ),
    build=largest,
)


def first_word(d: Draw) -> Instance:
    sentence = d.pick("sentence", SENTENCES)
    word = sentence.split()[0]
    return no_tool_instance(d, word, {"regex": rf"(?i)^\W*{word}\b"})


FIRST_WORD = Family(
    name="breadth-first-word",
    split="dev",
    kind="no_tool",
    wordings=(
        "What's the first word of this sentence: {sentence}",
        'Reply with only the first word of "{sentence}"',
        "first word of: {sentence}",
        "Which word opens the sentence '{sentence}'?",
    ),
    build=first_word,
)


# --- the web ---------------------------------------------------------------------------------


def page_mentions(d: Draw) -> Instance:
    page = d.pick("page", ("news", "status", "about", "changelog"))
    word = d.pick("word", ("outage", "refund", "upgrade", "holiday", "migration"))
    present = d.rng.random() < 0.5
    text = d.choice(SENTENCES)
    body = f"<html><body><p>{text}</p><p>Planned {word} next week.</p></body></html>\n"
    if not present:
        body = f"<html><body><p>{text}</p></body></html>\n"
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer=yes_no(present)),
        gold=Solution(
            (Call("http_get", {"url": f"{{base_url}}/{page}"}),), "Yes." if present else "No."
        ),
    )


PAGE_MENTIONS = Family(
    name="breadth-http-mentions-yesno",
    split="dev",
    kind="http",
    wordings=(
        "Does {base_url}/{page} mention {word}?",
        "Check whether the page {base_url}/{page} says anything about {word}.",
        "is {word} on {base_url}/{page}? yes or no",
        "Is there any {word} written on {base_url}/{page}?",
    ),
    build=page_mentions,
)


FAMILIES = (
    SUBTRACT,
    AVERAGE,
    POWER,
    REMAINDER,
    TWO_STEPS,
    PER_UNIT,
    CHARACTERS,
    FILES_OF_TYPE,
    ENV_VALUE,
    CSV_CELL,
    UPPERCASE,
    LARGEST,
    FIRST_WORD,
    PAGE_MENTIONS,
)
