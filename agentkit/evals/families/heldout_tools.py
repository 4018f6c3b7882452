"""Held-out families for the calculator, clock, shell, http_get, documents,
memory and tasks that need no tool.

Held out: only the aggregate score of these families is ever read. Do not
quote them elsewhere or tune anything against their failures.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    SENTENCES,
    STEMS,
    WORDS,
    checks,
    lines,
)

# --- calculator ---------------------------------------------------------------------------


def _calc(d: Draw, expression: str, value: float, tolerance: float = 0.0) -> Instance:
    shown = f"{value:g}"
    return d.instance(
        read_only=True,
        expect_first_tool=("calculator",),
        checks=checks(answer={"number": value, "tolerance": tolerance}),
        gold=Solution((Call("calculator", {"expression": expression}),), shown),
    )


def average(d: Draw) -> Instance:
    numbers = [d.randint(10, 90) for _ in range(4)]
    while sum(numbers) % 4:
        numbers[-1] += 1
    d.let("numbers", ", ".join(str(n) for n in numbers))
    expression = f"({' + '.join(str(n) for n in numbers)}) / 4"
    return _calc(d, expression, sum(numbers) / 4)


AVERAGE = Family(
    name="calc-average",
    split="heldout",
    kind="calc",
    wordings=(
        "What is the average of {numbers}?",
        "Work out the mean of these numbers: {numbers}.",
        "I need the average of {numbers}, please.",
        "avg {numbers}",
    ),
    build=average,
)


def power(d: Draw) -> Instance:
    base = d.number("base", 2, 9)
    exponent = d.number("exponent", 3, 6)
    return _calc(d, f"{base} ** {exponent}", base**exponent)


POWER = Family(
    name="calc-power",
    split="heldout",
    kind="calc",
    wordings=(
        "What is {base} to the power of {exponent}?",
        "Raise {base} to the {exponent}th power.",
        "Can you tell me what {base}^{exponent} comes to?",
        "{base}**{exponent}",
    ),
    build=power,
)


# --- clock ----------------------------------------------------------------------------------

WEEKDAY_RE = r"(?i)\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"


def weekday(d: Draw) -> Instance:
    return d.instance(
        read_only=True,
        expect_first_tool=("current_time",),
        checks=checks(answer={"regex": WEEKDAY_RE}, tools_called=["current_time"]),
        gold=Solution((Call("current_time", {}),), "Today is {result}"),
    )


WEEKDAY = Family(
    name="time-weekday",
    split="heldout",
    kind="time",
    wordings=(
        "What day of the week is it today?",
        "Tell me which weekday it is.",
        "I lost track of the days, is it Monday or what?",
        "weekday today?",
    ),
    build=weekday,
)


# --- shell ----------------------------------------------------------------------------------


def shell_head(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('queue', 'backlog', 'inbox'))}.txt")
    n = d.number("n", 2, 4)
    rows = d.sample(SENTENCES, n + 2)
    return d.instance(
        files={path: lines(rows)},
        read_only=True,
        expect_first_tool=("shell", "read_file"),
        checks=checks(
            answer={"contains": [rows[n - 1].rstrip(".")], "not_contains": [rows[n].rstrip(".")]}
        ),
        gold=Solution(
            (Call("shell", {"command": f"head -n {n} {path}"}),), "{result}", (rows[n - 1],)
        ),
    )


SHELL_HEAD = Family(
    name="shell-head",
    split="heldout",
    kind="shell",
    wordings=(
        "Use head to show me the first {n} lines of {path}.",
        "What does `head -n {n} {path}` print?",
        "Could you run head on {path} and give me the first {n} lines?",
        "head -n {n} {path}",
    ),
    build=shell_head,
)


def shell_mkdir(d: Draw) -> Instance:
    folder = d.pick("folder", ("build", "tmp", "out", "cache"))
    name = d.pick("name", (".gitkeep", "placeholder", "EMPTY"))
    path = f"{folder}/{name}"
    return d.instance(
        files={f"{d.choice(STEMS)}.txt": "x\n"},
        expect_first_tool=("shell",),
        checks=checks(files={path: {"equals": ""}}, tools_called=["shell"]),
        gold=Solution(
            (Call("shell", {"command": f"mkdir -p {folder} && touch {path}"}),), "Created."
        ),
    )


SHELL_MKDIR = Family(
    name="shell-mkdir-touch",
    split="heldout",
    kind="shell",
    wordings=(
        "Using the shell, create a folder {folder} with an empty file {name} in it.",
        "Can you run mkdir and touch so that {folder}/{name} exists (empty)?",
        "I need an empty {folder}/{name}; make the folder too, with the shell.",
        "mkdir {folder} + touch {folder}/{name}",
    ),
    build=shell_mkdir,
)


# --- http -----------------------------------------------------------------------------------


def link_target(d: Draw) -> Instance:
    page = d.pick("page", ("index.html", "links.html", "start.html"))
    labels = d.sample(("Pricing", "Contact", "Careers", "Blog", "Support"), 3)
    label = d.pick("label", labels)
    targets = {lab: f"/{lab.lower()}-{d.randint(10, 99)}.html" for lab in labels}
    anchors = "".join(f'<li><a href="{targets[lab]}">{lab}</a></li>' for lab in labels)
    body = f"<html><body><h1>{d.choice(WORDS).title()}</h1><ul>{anchors}</ul></body></html>\n"
    href = targets[label]
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(
            answer={
                "contains": [href],
                "not_contains": [t for k, t in targets.items() if k != label],
            }
        ),
        gold=Solution((Call("http_get", {"url": f"{{base_url}}/{page}"}),), href, (href,)),
    )


LINK_TARGET = Family(
    name="http-link-target",
    split="heldout",
    kind="http",
    wordings=(
        "Where does the {label} link on {base_url}/{page} point to?",
        "Fetch {base_url}/{page} and give me the address of the {label} link.",
        "I need the href behind {label} on {base_url}/{page}.",
        "{label} link target @ {base_url}/{page}",
    ),
    build=link_target,
)


def list_items(d: Draw) -> Instance:
    page = d.pick("page", ("menu.html", "team.html", "stock.html"))
    k = d.randint(3, 7)
    items = "".join(f"<li>{w.title()}</li>" for w in d.sample(WORDS, k))
    body = f"<html><body><h2>Today</h2><ul>{items}</ul><p>Updated daily.</p></body></html>\n"
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer={"number": k}),
        gold=Solution((Call("http_get", {"url": f"{{base_url}}/{page}"}),), f"{k} items."),
    )


LIST_ITEMS = Family(
    name="http-count-items",
    split="heldout",
    kind="http",
    wordings=(
        "How many items are listed on {base_url}/{page}?",
        "Count the list entries on the page {base_url}/{page}.",
        "Could you check how many things the list at {base_url}/{page} has?",
        "items on {base_url}/{page}, how many",
    ),
    build=list_items,
)


# --- documents and memory -------------------------------------------------------------------

DOC_TOPICS = {
    "parking": "Staff park in the north garage; visitors use level two.",
    "expenses": "Expense claims are paid at the end of each month.",
    "onboarding": "New hires get a laptop and a buddy on their first day.",
    "security": "Badges must be worn at all times inside the building.",
}


def which_doc(d: Draw) -> Instance:
    topics = d.sample(tuple(DOC_TOPICS), 3)
    topic = d.pick("topic", topics)
    names = {t: f"{d.choice(STEMS)}-{i}.md" for i, t in enumerate(topics)}
    docs = {names[t]: f"# Notes\n{DOC_TOPICS[t]}\n" for t in topics}
    wanted = names[topic]
    return d.instance(
        docs=docs,
        read_only=True,
        expect_first_tool=("search_docs",),
        checks=checks(
            answer={
                "contains": [wanted],
                "not_contains": [n for t, n in names.items() if t != topic],
            }
        ),
        gold=Solution((Call("search_docs", {"query": topic}),), f"{wanted} covers {topic}."),
    )


WHICH_DOC = Family(
    name="docs-which-doc",
    split="heldout",
    kind="docs",
    wordings=(
        "Which of my documents covers {topic}?",
        "Search my docs and tell me which file is about {topic}.",
        "I need the name of the document that explains {topic}.",
        "doc about {topic}?",
    ),
    build=which_doc,
)


def recall_calc(d: Draw) -> Instance:
    person = d.pick("person", ("daughter", "son", "nephew", "niece"))
    age = d.randint(4, 15)
    years = d.number("years", 2, 6)
    other = d.choice(("The user's favourite food is ramen.", "The user works from Porto."))
    return d.instance(
        memories=(f"The user's {person} is {age} years old.", other),
        read_only=True,
        expect_first_tool=("recall",),
        checks=checks(answer={"number": age + years}),
        gold=Solution(
            (
                Call("recall", {"query": f"{person} age"}),
                Call("calculator", {"expression": f"{age} + {years}"}),
            ),
            f"{age + years}",
        ),
    )


RECALL_CALC = Family(
    name="recall-then-calc",
    split="heldout",
    kind="memory",
    wordings=(
        "How old will my {person} be in {years} years? You know their age.",
        "Check your memory for my {person}'s age and add {years} years.",
        "I told you how old my {person} is. What age will that be {years} years from now?",
        "{person} age + {years}?",
    ),
    build=recall_calc,
)


# --- no tool --------------------------------------------------------------------------------


def shout(d: Draw) -> Instance:
    phrase = d.pick("phrase", ("good morning team", "happy birthday", "well done", "see you soon"))
    upper = phrase.upper()
    return d.instance(
        read_only=True,
        expect_first_tool=("final_answer",),
        checks=checks(answer={"regex": rf"\b{upper}\b"}, max_steps=2),
        gold=Solution((), upper),
    )


SHOUT = Family(
    name="uppercase-text",
    split="heldout",
    kind="no_tool",
    wordings=(
        "Write '{phrase}' in capital letters.",
        "How does '{phrase}' look in all caps?",
        "I'd like '{phrase}' in upper case, please.",
        "caps: {phrase}",
    ),
    build=shout,
)


def words_in_message(d: Draw) -> Instance:
    sentence = d.choice(SENTENCES).rstrip(".")
    d.let("sentence", sentence)
    n = len(sentence.split())
    return d.instance(
        read_only=True,
        expect_first_tool=("final_answer",),
        checks=checks(answer={"number": n}, max_steps=2),
        gold=Solution((), f"{n} words."),
    )


WORDS_IN_MESSAGE = Family(
    name="count-words-in-message",
    split="heldout",
    kind="no_tool",
    wordings=(
        "How many words are in this sentence: '{sentence}'?",
        "Count the words in: {sentence}",
        "I need the number of words in '{sentence}'.",
        "word count of '{sentence}'",
    ),
    build=words_in_message,
)


FAMILIES: tuple[Family, ...] = (
    AVERAGE,
    POWER,
    WEEKDAY,
    SHELL_HEAD,
    SHELL_MKDIR,
    LINK_TARGET,
    LIST_ITEMS,
    WHICH_DOC,
    RECALL_CALC,
    SHOUT,
    WORDS_IN_MESSAGE,
)
