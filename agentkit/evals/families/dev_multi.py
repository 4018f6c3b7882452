"""Dev families of two steps or more: read then compute, compute then
save, find then read, read then write a summary."""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    FRUITS,
    PEOPLE,
    SENTENCES,
    STEMS,
    TASK_LINES,
    checks,
    lines,
)


def read_multiply(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('numbers', 'values', 'pair', 'input'))}.txt")
    a, b = d.randint(12, 39), d.randint(12, 39)
    return d.instance(
        files={path: f"{a}\n{b}\n"},
        read_only=True,
        expect_first_tool=("read_file",),
        checks=checks(answer={"number": a * b}, tools_called=["read_file"]),
        gold=Solution(
            (Call("read_file", {"path": path}), Call("calculator", {"expression": f"{a} * {b}"})),
            f"{a} x {b} = {a * b}",
            (str(a * b),),
        ),
    )


READ_MULTIPLY = Family(
    name="read-multiply",
    split="dev",
    kind="multi_step",
    wordings=(
        "Read {path} and multiply the two numbers in it.",
        "What do you get when you multiply the two numbers in {path}?",
        "I need the product of the numbers written in {path}.",
        "multiply the 2 numbers from {path}",
    ),
    build=read_multiply,
)


def lookup_double(d: Draw) -> Instance:
    path = d.pick("path", ("prices.json", "menu.json", "rates.json"))
    fruits = d.sample(FRUITS, 3)
    fruit = d.pick("fruit", fruits)
    prices = {f: round(d.randint(50, 400) / 100, 2) for f in fruits}
    while len(set(prices.values())) < 3:
        prices = {f: round(d.randint(50, 400) / 100, 2) for f in fruits}
    body = "{" + ", ".join(f'"{f}": {p}' for f, p in prices.items()) + "}"
    price = prices[fruit]
    doubled = round(price * 2, 2)
    return d.instance(
        files={path: body},
        read_only=True,
        expect_first_tool=("read_field", "read_file"),
        checks=checks(answer={"number": doubled, "tolerance": 0.001}),
        gold=Solution(
            (
                Call("read_field", {"path": path, "key": fruit}),
                Call("calculator", {"expression": f"{price} * 2"}),
            ),
            f"Doubled: {doubled:g}",
        ),
        fallback=Solution(
            (
                Call("read_file", {"path": path}),
                Call("calculator", {"expression": f"{price} * 2"}),
            ),
            f"Doubled: {doubled:g}",
        ),
    )


LOOKUP_DOUBLE = Family(
    name="lookup-then-double",
    split="dev",
    kind="multi_step",
    wordings=(
        "Look up the price of {fruit} in {path} and double it.",
        "What is twice the {fruit} price listed in {path}?",
        "I need double the price of {fruit} from {path}.",
        "{fruit} price in {path} x2?",
    ),
    build=lookup_double,
)


def count_to_file(d: Draw) -> Instance:
    src = d.let("src", f"{d.choice(('names', 'guests', 'players', 'members'))}.txt")
    dst = d.pick("dst", ("count.txt", "total.txt", "n.txt"))
    names = d.sample(PEOPLE, d.randint(3, 8))
    n = len(names)
    return d.instance(
        files={src: lines(names)},
        expect_first_tool=("count", "read_file", "shell"),
        checks=checks(files={dst: {"regex": rf"\A\s*{n}\s*\Z"}, src: {"unchanged": True}}),
        gold=Solution(
            (
                Call("count", {"path": src}),
                Call("write_file", {"path": dst, "content": f"{n}\n"}),
            ),
            f"Wrote {n} to {dst}.",
        ),
        fallback=Solution(
            (
                Call("read_file", {"path": src}),
                Call("write_file", {"path": dst, "content": f"{n}\n"}),
            ),
            f"Wrote {n} to {dst}.",
        ),
    )


COUNT_TO_FILE = Family(
    name="count-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Count the lines in {src} and write the count to {dst}",
        "How many names are in {src}? Save the number in {dst}.",
        "I need the number of lines of {src} stored in {dst}, just the number.",
        "count lines of {src} -> {dst}",
    ),
    build=count_to_file,
)


def grep_then_read(d: Draw) -> Instance:
    word = d.pick("word", ("kiwi", "falcon", "comet", "walrus", "tulip"))
    folder = d.choice(FOLDERS)
    stems = d.sample(STEMS, 2)
    target = f"{folder}/{stems[1]}.txt"
    first = f"{d.choice(('Kept', 'Filed', 'Noted'))} on a {d.choice(('Monday', 'Friday'))} in {d.choice(CITIES)}."
    plain = [s for s in SENTENCES if word not in s.lower()]
    files = {
        f"{folder}/{stems[0]}.txt": lines(d.sample(plain, 2)),
        target: f"{first}\nThe word {word} shows up here.\n",
    }
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("grep", "shell"),
        checks=checks(answer={"contains": [first.rstrip(".")]}),
        gold=Solution(
            (Call("grep", {"pattern": word}), Call("read_file", {"path": target, "end_line": 1})),
            f"Its first line: {first}",
            (first,),
        ),
    )


GREP_THEN_READ = Family(
    name="grep-then-read",
    split="dev",
    kind="multi_step",
    wordings=(
        'Find the file that mentions "{word}" and tell me what its first line says.',
        "Which file talks about {word}, and what is its first line?",
        "I'm after the first line of whichever file mentions {word}.",
        "file with {word} -> first line?",
    ),
    build=grep_then_read,
)


def summarise(d: Draw) -> Instance:
    src = d.pick("src", ("notes.txt", "meeting.txt", "minutes.md"))
    dst = d.pick("dst", ("summary.md", "tldr.txt", "recap.md"))
    owner = d.choice(PEOPLE)
    city = d.choice(CITIES)
    day = d.choice(("Monday", "Tuesday", "Thursday", "Friday"))
    chatter = d.sample(TASK_LINES, 2)
    text = (
        "Meeting notes\n"
        f"- We agreed to move the launch to {day}.\n"
        f"- {owner} owns the release checklist.\n"
        f"- The offsite will be in {city}.\n"
        f"- Side remarks: someone mentioned they need to {chatter[0]} and {chatter[1]}.\n"
    )
    summary = f"Launch moves to {day}; {owner} owns the checklist; offsite in {city}.\n"
    return d.instance(
        files={src: text},
        expect_first_tool=("read_file",),
        checks=checks(files={dst: {"contains": [day, owner, city]}, src: {"unchanged": True}}),
        gold=Solution(
            (
                Call("read_file", {"path": src}),
                Call("write_file", {"path": dst, "content": summary}),
            ),
            f"Summarised {src} into {dst}.",
        ),
    )


SUMMARISE = Family(
    name="summarise-to-file",
    split="dev",
    kind="multi_step",
    wordings=(
        "Summarise {src} into {dst}",
        "Could you write a short summary of {src} and save it as {dst}?",
        "I need the key points of {src} in {dst}.",
        "tl;dr of {src} -> {dst}",
    ),
    build=summarise,
    pinned={0: {"src": "notes.txt", "dst": "summary.md"}},
)


FAMILIES: tuple[Family, ...] = (
    READ_MULTIPLY,
    LOOKUP_DOUBLE,
    COUNT_TO_FILE,
    GREP_THEN_READ,
    SUMMARISE,
)
