"""Dev families trained on but kept out of the suite (``TRAINING_ONLY``).

The third wave (``dev_breadth_third``) wrote 15 intents; eight more dev
families in the suite would put held-out under 28% of its families
(tests/test_evals_builtin.py), so these seven are drawn for training
episodes only (:func:`agentkit.evals.families.training_families`): a word
capitalised, a preference remembered, a file's numbers totalled into
another, hours to minutes, a percent change, a sentence's last word, a new
file of two lines. Written the same way, never from a held-out case.
"""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.dev_breadth_third import numbers_file
from agentkit.evals.families.dev_knowledge import no_tool_instance
from agentkit.evals.families.dev_tools import calc_instance
from agentkit.evals.families.dev_write import new_file_instance
from agentkit.evals.families.vocab import FOLDERS, SENTENCES, STEMS, TASK_LINES, checks, lines

# --- editing -----------------------------------------------------------------------------------


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


def sum_to_file(d: Draw) -> Instance:
    path, numbers = numbers_file(d)
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


# --- writing -----------------------------------------------------------------------------------


def two_lines(d: Draw) -> Instance:
    folder = d.choice(("", *FOLDERS[:3]))
    path = d.let("path", f"{folder}/{d.choice(STEMS)}.txt".lstrip("/"))
    first, second = d.sample(TASK_LINES, 2)
    d.let("first", first)
    d.let("second", second)
    return new_file_instance(d, path, f"{first}\n{second}\n", {"regex": rf"{first}\n{second}"})


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


FAMILIES: tuple[Family, ...] = ()  # none in the suite
TRAINING_ONLY = (
    CAPITALISE,
    REMEMBER_PREFERENCE,
    SUM_TO_FILE,
    HOURS_TO_MINUTES,
    PERCENT_CHANGE,
    LAST_WORD,
    TWO_LINES,
)
