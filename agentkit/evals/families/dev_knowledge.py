"""Dev families: the user's documents (search_docs, with citations),
long-term memory (remember, recall), and tasks to answer without a tool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import CITIES, COLOURS, PEOPLE, WORDS, checks

NO_TOOL = ("final_answer",)


# --- documents ------------------------------------------------------------------------------


def docs_fact(d: Draw) -> Instance:
    days = d.number("days", 18, 32)
    expense_days = d.choice(("14", "45", "60"))
    doc = d.pick("doc", ("handbook.md", "policies.md", "hr/benefits.md"))
    text = (
        "# Employee handbook\n\n## Vacation\n"
        f"Employees get {days} days of paid vacation per year.\n\n"
        f"## Expenses\nSubmit receipts within {expense_days} days.\n"
    )
    short = doc.rsplit("/", 1)[-1]
    return d.instance(
        docs={doc: text},
        read_only=True,
        expect_first_tool=("search_docs",),
        checks=checks(answer={"number": days, "contains_all": [short]}),
        gold=Solution(
            (Call("search_docs", {"query": "vacation days"}),),
            f"{days} days a year [{short}]",
            (f"{days} days",),
        ),
    )


DOCS_FACT = Family(
    name="docs-fact-cite",
    split="dev",
    kind="docs",
    wordings=(
        "How many vacation days do employees get? Search the docs and cite the file.",
        "Look up the yearly vacation allowance in my documents and name the source.",
        "I need the number of paid vacation days, with the document it comes from.",
        "vacation days per year? cite the doc",
    ),
    build=docs_fact,
)


HOWTO = {
    "deploy": ("run `make release` from the main branch", "make release"),
    "reset my widget": (
        "hold the side button for ten seconds until the light blinks",
        "ten seconds",
    ),
    "rotate the API keys": ("run `keyctl rotate --all` and restart the workers", "keyctl rotate"),
    "restore a backup": ("copy the newest snapshot with `restore.sh latest`", "restore.sh"),
}


def docs_howto(d: Draw) -> Instance:
    action = d.pick("action", tuple(HOWTO))
    how, phrase = HOWTO[action]
    folder = d.choice(("ops", "manuals", "notes"))
    doc = f"{folder}/{action.split()[0]}.md"
    other = d.choice([a for a in HOWTO if a != action])
    other_doc = f"{folder}/{other.split()[0]}.md"
    docs = {
        doc: f"# How to {action}\nTo {action}, {how}.\nAsk in #help if it fails.\n",
        other_doc: f"# How to {other}\nTo {other}, {HOWTO[other][0]}.\n",
    }
    short = doc.rsplit("/", 1)[-1]
    return d.instance(
        docs=docs,
        read_only=True,
        expect_first_tool=("search_docs",),
        checks=checks(answer={"contains_all": [phrase, short]}),
        gold=Solution(
            (Call("search_docs", {"query": action}),),
            f"To {action}, {how} [{short}].",
            (phrase,),
        ),
    )


DOCS_HOWTO = Family(
    name="docs-howto-cite",
    split="dev",
    kind="docs",
    wordings=(
        "How do I {action}? Cite your sources.",
        "According to my notes, how do I {action}? Please cite your source.",
        "Find the steps to {action} in my documents and say which file they come from.",
        "how to {action}? (with citation)",
    ),
    build=docs_howto,
    pinned={0: {"action": "reset my widget"}},
)


def docs_lookup(d: Draw) -> Instance:
    thing = d.pick("thing", ("wifi password", "door code", "printer PIN", "parking code"))
    value = f"{d.choice(WORDS).title()}-{d.randint(10, 99)}"
    doc = f"{d.choice(('office', 'building', 'welcome'))}.md"
    text = (
        f"# Office\nThe {thing} is {value}.\nThe kitchen closes at 6 pm.\n"
        f"The {d.choice(('fire exit', 'mail room'))} is on floor {d.randint(2, 9)}.\n"
    )
    return d.instance(
        docs={doc: text},
        read_only=True,
        expect_first_tool=("search_docs",),
        checks=checks(answer={"contains": [value]}),
        gold=Solution((Call("search_docs", {"query": thing}),), f"It is {value}.", (value,)),
    )


DOCS_LOOKUP = Family(
    name="docs-lookup",
    split="dev",
    kind="docs",
    wordings=(
        "Look up the office {thing} in my documents.",
        "What's the {thing}? It's somewhere in my docs.",
        "Can you find the {thing} in the documents I gave you?",
        "{thing}?? check my docs",
    ),
    build=docs_lookup,
)


# --- memory ---------------------------------------------------------------------------------

FACTS = {
    "favourite colour": (COLOURS, "my favourite colour is {v}"),
    "dentist appointment": (
        ("May 3", "June 12", "July 21", "March 9"),
        "my dentist appointment is on {v}",
    ),
    "home town": (CITIES, "my home town is {v}"),
    "cat's name": (("Miso", "Pixel", "Tofu", "Biscuit"), "my cat is called {v}"),
}


def remember_fact(d: Draw) -> Instance:
    topic = d.choice(tuple(FACTS))
    options, template = FACTS[topic]
    value = d.choice(options)
    fact = d.let("fact", template.format(v=value))
    return d.instance(
        read_only=True,
        expect_first_tool=("remember",),
        checks=checks(memory={"contains": [value]}),
        gold=Solution((Call("remember", {"text": fact}),), "Noted.", (value,)),
    )


REMEMBER_FACT = Family(
    name="remember-fact",
    split="dev",
    kind="memory",
    wordings=(
        "Remember that {fact}.",
        "Please remember this: {fact}.",
        "Could you keep in mind for future chats that {fact}?",
        "note to self: {fact}",
    ),
    build=remember_fact,
)


RECALLED = {
    "cat's name": ("The user's cat is named {v}.", ("Miso", "Pixel", "Tofu", "Biscuit")),
    "preferred editor": ("The user prefers the {v} editor.", ("Helix", "Vim", "Emacs", "Zed")),
    "home town": ("The user grew up in {v}.", CITIES),
    "bike brand": ("The user rides a {v} bike.", ("Brompton", "Trek", "Gazelle", "Cube")),
}


Facts = Mapping[str, tuple[str, Sequence[str]]]


def recall_instance(d: Draw, facts: Facts, answer: str) -> Instance:
    """A memory of one topic (the ``{topic}`` slot) beside one of another
    topic: recall finds it, and the answer (``answer`` with ``{topic}`` and
    ``{value}``) gives it and not the other."""
    topic = d.pick("topic", tuple(facts))
    template, options = facts[topic]
    value = d.choice(options)
    other_topic = d.choice([t for t in facts if t != topic])
    other_template, other_options = facts[other_topic]
    other = d.choice(other_options, avoid=[value])
    return d.instance(
        memories=(template.format(v=value), other_template.format(v=other)),
        read_only=True,
        expect_first_tool=("recall",),
        checks=checks(answer={"contains": [value], "not_contains": [other]}),
        gold=Solution((Call("recall", {"query": topic}),), answer.format(topic=topic, value=value)),
    )


def recall_fact(d: Draw) -> Instance:
    return recall_instance(d, RECALLED, "Your {topic}: {value}.")


RECALL_FACT = Family(
    name="recall-fact",
    split="dev",
    kind="memory",
    wordings=(
        "What's my {topic}? Check your memory.",
        "Tell me my {topic}, you stored it earlier.",
        "I told you my {topic} before. What was it?",
        "my {topic}?",
    ),
    build=recall_fact,
)


def remember_answer(d: Draw) -> Instance:
    thing = d.pick("thing", ("locker code", "gate number", "room number", "bike lock code"))
    value = d.number("value", 1000, 9999)
    return d.instance(
        read_only=True,
        expect_first_tool=("remember",),
        checks=checks(memory={"contains": [str(value)]}, answer={"number": value}),
        gold=Solution(
            (Call("remember", {"text": f"my {thing} is {value}"}),), f"Your {thing} is {value}."
        ),
    )


REMEMBER_ANSWER = Family(
    name="remember-then-answer",
    split="dev",
    kind="memory",
    wordings=(
        "Remember that my {thing} is {value}, then tell me my {thing}.",
        "Store my {thing} ({value}) in memory and repeat it back to me.",
        "Can you remember my {thing} is {value} and then say it back?",
        "remember {thing} {value} + read it back",
    ),
    build=remember_answer,
)


# --- no tool ------------------------------------------------------------------------------


def no_tool_instance(d: Draw, answer: str, check: dict[str, object]) -> Instance:
    """A task answered without a tool (any change to the workspace is unsafe)."""
    return d.instance(
        read_only=True,
        expect_first_tool=NO_TOOL,
        checks=checks(answer=check, max_steps=2),
        gold=Solution((), answer),
    )


def greet(d: Draw) -> Instance:
    name = d.pick("name", PEOPLE)
    return no_tool_instance(d, f"Hello, {name}!", {"contains_all": [name]})


def reply_word(d: Draw) -> Instance:
    word = d.pick("word", ("ready", "OK", "thanks", "done", "yes"))
    return no_tool_instance(d, word, {"regex": rf"(?i)\b{word}\b"})


GREET = Family(
    name="greet-person",
    split="dev",
    kind="no_tool",
    wordings=(
        "Say hello to {name}.",
        "Could you greet {name} for me?",
        "I'd like you to welcome {name}.",
        "hi to {name} pls",
    ),
    build=greet,
)

REPLY_WORD = Family(
    name="reply-word",
    split="dev",
    kind="no_tool",
    wordings=(
        "Reply with the word {word}.",
        "Answer with {word} if you can read this.",
        "Can you just say {word}?",
        "just say {word}",
    ),
    build=reply_word,
)


def repeat(d: Draw) -> Instance:
    sentence = d.pick(
        "sentence",
        ("the sky is blue", "bread is in the oven", "the train leaves at noon", "cats like boxes"),
    )
    return no_tool_instance(d, sentence.capitalize() + ".", {"contains": [sentence]})


REPEAT = Family(
    name="repeat-sentence",
    split="dev",
    kind="no_tool",
    wordings=(
        "Repeat after me: {sentence}.",
        "Say back exactly this: {sentence}.",
        "Could you echo my words? {sentence}",
        "repeat: {sentence}",
    ),
    build=repeat,
)


def name_in_context(d: Draw) -> Instance:
    name = d.pick("name", PEOPLE)
    city = d.pick("city", CITIES)
    return no_tool_instance(
        d, f"Your name is {name}.", {"contains": [name], "not_contains": [city]}
    )


NAME_IN_CONTEXT = Family(
    name="name-in-context",
    split="dev",
    kind="no_tool",
    wordings=(
        "My name is {name}. What is my name?",
        "I'm {name} from {city}. Tell me my name.",
        "Hi, {name} here, in {city}. Can you say my name back?",
        "name's {name}. what's my name",
    ),
    build=name_in_context,
)


def colour_in_sentence(d: Draw) -> Instance:
    colour = d.choice(COLOURS)
    thing = d.choice(("door", "bicycle", "umbrella", "kite", "mug"))
    d.let("sentence", f"she opened the {colour} {thing}")
    return no_tool_instance(d, colour.capitalize() + ".", {"contains": [colour]})


COLOUR_IN_SENTENCE = Family(
    name="colour-in-sentence",
    split="dev",
    kind="no_tool",
    wordings=(
        "What colour is mentioned in this sentence: '{sentence}'?",
        "Name the colour in '{sentence}'.",
        "I want to know which colour appears in: {sentence}",
        "colour in '{sentence}'?",
    ),
    build=colour_in_sentence,
)


FAMILIES: tuple[Family, ...] = (
    DOCS_FACT,
    DOCS_HOWTO,
    DOCS_LOOKUP,
    REMEMBER_FACT,
    RECALL_FACT,
    REMEMBER_ANSWER,
    GREET,
    REPLY_WORD,
    REPEAT,
    NAME_IN_CONTEXT,
    COLOUR_IN_SENTENCE,
)
