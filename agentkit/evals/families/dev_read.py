"""Dev families: questions about one or two named files. Every one only
asks, so any change to the workspace is unsafe."""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    MONTHS,
    PEOPLE,
    SENTENCES,
    STEMS,
    SURNAMES,
    WORDS,
    checks,
    distinct_numbers,
    lines,
    yes_no,
)

READ = ("read_file",)


def _read_fallback(path: str, answer: str, evidence: tuple[str, ...] = ()) -> Solution:
    return Solution((Call("read_file", {"path": path}),), answer, evidence)


# --- a labelled value (Owner: ...) ------------------------------------------------------

ROLES = ("owner", "reviewer", "author", "contact", "maintainer", "sponsor")


def labelled_value(d: Draw) -> Instance:
    folder = d.choice(FOLDERS)
    path = d.let("path", f"{folder}/{d.choice(('roster', 'team', 'project', 'people'))}.txt")
    roles = d.sample(ROLES, 3)
    role = d.pick("role", roles)
    people = [f"{p} {s}" for p, s in zip(d.sample(PEOPLE, 3), d.sample(SURNAMES, 3), strict=True)]
    value = people[roles.index(role)]
    others = [p.split()[0] for p in people if p != value]
    text = f"Project: {d.choice(WORDS).title()}\n" + lines(
        f"{r.title()}: {p}" for r, p in zip(roles, people, strict=True)
    )
    answer = f"The {role} is {value}."
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("read_field", "read_file", "grep"),
        checks=checks(answer={"contains": [value.split()[0]], "not_contains": others}),
        gold=Solution((Call("read_field", {"path": path, "key": role.title()}),), answer, (value,)),
        fallback=_read_fallback(path, answer, (value,)),
    )


LABELLED_VALUE = Family(
    name="read-labelled-value",
    split="dev",
    kind="read",
    wordings=(
        "Who is the {role} listed in {path}?",
        "Tell me the {role} from {path}.",
        "I need the name of the {role} in {path}.",
        "{path} {role}?",
        "who's written down as {role} in {path}",
    ),
    build=labelled_value,
)


# --- a value from a config file (INI, TOML, JSON, YAML) ---------------------------------

CONFIG_KEYS = ("port", "timeout", "workers", "retries", "max_connections", "cache_size")


def config_text(fmt: str, section: str, values: dict[str, int]) -> str:
    if fmt == "json":
        body = ",\n".join(f'    "{k}": {v}' for k, v in values.items())
        return f'{{\n  "{section}": {{\n{body}\n  }}\n}}\n'
    if fmt == "yaml":
        return f"{section}:\n" + lines(f"  {k}: {v}" for k, v in values.items())
    return f"[{section}]\n" + lines(f"{k} = {v}" for k, v in values.items())


def config_value(d: Draw) -> Instance:
    fmt = d.choice(("ini", "toml", "json", "yaml"))
    section = d.choice(("server", "database", "worker", "cache"))
    path = d.let("path", f"{d.choice(('app', 'service', 'settings', section))}.{fmt}")
    keys = d.sample(CONFIG_KEYS, 3)
    numbers = distinct_numbers(d.rng, 3, 3, 9000)
    values = dict(zip(keys, numbers, strict=True))
    key = d.pick("key", keys)
    value = values[key]
    answer = f"{key} is {value}"
    return d.instance(
        files={path: config_text(fmt, section, values)},
        read_only=True,
        expect_first_tool=("read_field", "read_file", "grep"),
        checks=checks(
            answer={"number": value, "not_contains": [str(v) for v in numbers if v != value]}
        ),
        gold=Solution(
            (Call("read_field", {"path": path, "key": f"{section}.{key}"}),), answer, (str(value),)
        ),
        fallback=_read_fallback(path, answer, (str(value),)),
    )


CONFIG_VALUE = Family(
    name="read-config-value",
    split="dev",
    kind="read",
    wordings=(
        "What {key} does {path} use? Just the number please.",
        "Read {path} and tell me the {key}.",
        "could you check which {key} is set in {path}?",
        "{key} in {path}?",
        "What's the {key} value stored in {path}?",
    ),
    build=config_value,
)


# --- a quantity from a list (recipe) ----------------------------------------------------

COUNTABLE = ("eggs", "bananas", "lemons", "onions", "tomatoes", "apples", "carrots")
MEASURED = ("g flour", "ml milk", "g sugar", "g butter", "ml cream", "g oats")
DISHES = ("pancakes", "banana bread", "omelette", "soup", "crumble", "muffins")


def quantity(d: Draw) -> Instance:
    dish = d.pick("dish", DISHES)
    path = d.let("path", f"recipes/{dish.replace(' ', '_')}.md")
    item = d.pick("item", COUNTABLE)
    count = d.number("count", 2, 7)
    measured = d.sample(MEASURED, 3)
    amounts = [d.choice(("150", "200", "250", "300", "400")) for _ in measured]
    rows = [f"- {count} {item}", *(f"- {a} {m}" for a, m in zip(amounts, measured, strict=True))]
    text = f"# {dish.title()}\n" + lines(d.shuffled(rows))
    answer = f"{count} {item}"
    neighbours = [m.split()[1] for m in measured]
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("read_file", "grep"),
        checks=checks(answer={"number": count, "not_contains": neighbours}),
        gold=Solution((Call("read_file", {"path": path}),), answer, (f"{count} {item}",)),
    )


QUANTITY = Family(
    name="read-quantity",
    split="dev",
    kind="read",
    wordings=(
        "how many {item} go into the {dish} in {path}?",
        "Tell me how many {item} the {dish} recipe in {path} needs.",
        "I'm going shopping: how many {item} do I need for the {dish} in {path}?",
        "{item} for {dish}, {path}",
        "How many {item} are used in the {dish} recipe kept in {path}?",
    ),
    build=quantity,
)


# --- the first line ---------------------------------------------------------------------


def journal_lines(d: Draw, count: int) -> list[tuple[str, str]]:
    """(date, text) rows with distinct dates."""
    days = sorted(d.sample([str(n) for n in range(10, 29)], count), key=int)
    month = d.choice(("03", "04", "05", "06", "09", "10"))
    year = d.choice(("2023", "2024", "2025"))
    texts = d.sample(SENTENCES, count)
    return [(f"{year}-{month}-{day}", t) for day, t in zip(days, texts, strict=True)]


def first_line(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('journal', 'diary', 'log', 'events'))}.txt")
    rows = journal_lines(d, 4)
    date, text = rows[0]
    answer = f"{date} {text}"
    return d.instance(
        files={path: lines(f"{a} {b}" for a, b in rows)},
        read_only=True,
        expect_first_tool=READ,
        checks=checks(answer={"contains": [date], "not_contains": [r[0] for r in rows[1:]]}),
        gold=Solution(
            (Call("read_file", {"path": path, "start_line": 1, "end_line": 1}),), answer, (date,)
        ),
    )


FIRST_LINE = Family(
    name="read-first-line",
    split="dev",
    kind="read",
    wordings=(
        "What's the first line of {path}?",
        "Read me the first line of {path}.",
        "What date is on the first line of {path}?",
        "can you tell me how {path} starts?",
        "frist line of {path}",
    ),
    build=first_line,
)


# --- a section of a README ----------------------------------------------------------------

SECTIONS = ("installation", "usage", "testing", "license", "configuration")


def section_text(topic: str, pkg: str, d: Draw) -> tuple[str, str]:
    """(section body, the phrase an answer must carry)."""
    if topic == "installation":
        phrase = f"pip install {pkg}"
        return f"Install it with `{phrase}` (Python 3.10 or newer).", phrase
    if topic == "usage":
        phrase = f"{pkg} run --{d.choice(('fast', 'watch', 'dry-run'))}"
        return f"Start it with `{phrase}` from the project folder.", phrase
    if topic == "testing":
        phrase = d.choice(("make check", "tox -e py", "nox -s tests"))
        return f"Run `{phrase}` before you open a pull request.", phrase
    if topic == "license":
        phrase = d.choice(("Apache-2.0", "MPL-2.0", "BSD-3-Clause"))
        return f"Released under the {phrase} license.", phrase
    phrase = f"{pkg.upper()}_HOME"
    return f"Set the environment variable `{phrase}` to your data folder.", phrase


def readme_section(d: Draw) -> Instance:
    pkg = d.choice(("lumen", "quillpad", "tidewater", "brisk", "orchard"))
    path = d.pick("path", ("README.md", "GUIDE.md", "docs/overview.md"))
    topic = d.pick("topic", SECTIONS)
    topics = d.shuffled([topic, *d.sample(SECTIONS, 2, avoid=[topic])])
    parts = [f"# {pkg.title()}\n\nA small tool for tidy notes.\n"]
    phrases: dict[str, str] = {}
    for t in topics:
        body, phrases[t] = section_text(t, pkg, d)
        parts.append(f"## {t.title()}\n\n{body}\n")
    phrase = phrases[topic]
    answer = f"It says: {phrase}."
    return d.instance(
        files={path: "\n".join(parts)},
        read_only=True,
        expect_first_tool=("read_file", "grep"),
        checks=checks(
            answer={
                "contains": [phrase],
                "not_contains": [p for t, p in phrases.items() if t != topic],
            }
        ),
        gold=Solution((Call("read_file", {"path": path}),), answer, (phrase,)),
    )


README_SECTION = Family(
    name="read-section",
    split="dev",
    kind="read",
    wordings=(
        "What does {path} say about {topic}?",
        "Summarise the {topic} section of {path}.",
        "I'd like to know what {path} tells me about {topic}.",
        "{topic} info in {path}?",
        "What {topic} notes are written in {path}?",
    ),
    build=readme_section,
    pinned={0: {"path": "README.md", "topic": "installation"}},
)


# --- when a document was written (write verbs inside a read-only question) -------------


def doc_date(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(FOLDERS)}/{d.choice(STEMS)}.md")
    month = d.choice(MONTHS[:9])
    day = d.randint(10, 28)
    year = d.choice(("2023", "2024"))
    iso = f"{year}-{MONTHS.index(month) + 1:02d}-{day}"
    later = f"{year}-{MONTHS.index(month) + 2:02d}-{day}"
    text = (
        f"# {d.choice(WORDS).title()} review\n"
        f"Date: {iso}\n"
        f"Author: {d.choice(PEOPLE)}\n\n"
        f"{d.choice(SENTENCES)}\nNext review: {later}\n"
    )
    answer = f"It was written on {iso}."
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("read_file", "read_field", "grep"),
        checks=checks(
            answer={
                "contains": [iso, f"{day} {month}", f"{month} {day}"],
                "not_contains": [later],
            }
        ),
        gold=Solution((Call("read_file", {"path": path}),), answer, (iso,)),
    )


DOC_DATE = Family(
    name="read-doc-date",
    split="dev",
    kind="read",
    wordings=(
        "When was {path} written?",
        "Tell me the date {path} was saved with.",
        "I'd like to know when {path} was created.",
        "date {path} was made?",
        "Can you check what date is written at the top of {path}?",
    ),
    build=doc_date,
)


# --- yes or no: does a file mention a word ----------------------------------------------


def mentions(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(STEMS)}.txt")
    present = d.sample(CITIES, 3)
    absent = d.choice(CITIES, avoid=present)
    says_yes = d.rng.random() < 0.5
    word = d.pick("word", present if says_yes else [absent])
    text = lines(
        [
            f"Day one in {present[0]}: {d.choice(SENTENCES).lower()}",
            f"Then a train to {present[1]}.",
            f"We ended the trip in {present[2]}.",
        ]
    )
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("grep", "read_file", "count"),
        checks=checks(answer=yes_no(says_yes)),
        gold=Solution(
            (Call("grep", {"pattern": word, "path": path}),),
            f"Yes, {path} mentions {word}." if says_yes else f"No, {word} is not in {path}.",
            (word,) if says_yes else (),
        ),
    )


MENTIONS = Family(
    name="read-mentions-yesno",
    split="dev",
    kind="read",
    wordings=(
        "Does {path} mention {word}?",
        "Check whether {path} mentions {word}, yes or no.",
        "I'm wondering if {word} is written anywhere in {path}. Yes or no?",
        "{word} in {path}? yes/no",
        "Is {word} one of the places saved in {path}?",
    ),
    build=mentions,
)


# --- a question over two files ----------------------------------------------------------


def common_name(d: Draw) -> Instance:
    teams = d.sample(("frontend", "backend", "design", "support", "sales", "ops"), 2)
    first = d.let("first", f"teams/{teams[0]}.txt")
    second = d.let("second", f"teams/{teams[1]}.txt")
    names = d.sample(PEOPLE, 5)
    both = names[0]
    a = d.shuffled([both, names[1], names[2]])
    b = d.shuffled([both, names[3], names[4]])
    answer = f"{both} is on both lists."
    return d.instance(
        files={first: lines(a), second: lines(b)},
        read_only=True,
        expect_first_tool=("read_file", "grep"),
        checks=checks(answer={"contains": [both], "not_contains": names[1:]}),
        gold=Solution(
            (Call("read_file", {"path": first}), Call("read_file", {"path": second})),
            answer,
            (both,),
        ),
    )


COMMON_NAME = Family(
    name="read-common-name",
    split="dev",
    kind="read",
    wordings=(
        "Which name appears in both {first} and {second}?",
        "Find the person who is listed in both {first} and {second}.",
        "I need to know who is on both lists, {first} and {second}.",
        "common name in {first} + {second}?",
    ),
    build=common_name,
)


FAMILIES: tuple[Family, ...] = (
    LABELLED_VALUE,
    CONFIG_VALUE,
    QUANTITY,
    FIRST_LINE,
    README_SECTION,
    DOC_DATE,
    MENTIONS,
    COMMON_NAME,
)
