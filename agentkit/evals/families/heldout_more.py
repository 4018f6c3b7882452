"""Held-out families, second wave: more reading, counting, writing, editing,
moving, arithmetic, web, memory and answer-only tasks.

Held out: only the aggregate score of these families is ever read. Do not
quote them elsewhere or tune anything against their failures.
"""

from __future__ import annotations

import re

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    ITEMS,
    PEOPLE,
    SENTENCES,
    STEMS,
    TASK_LINES,
    WORDS,
    checks,
    distinct_numbers,
    join_and,
    lines,
)

SEP = r"[ \t]*"

# --- read -----------------------------------------------------------------------------------

HEADINGS = (
    "Installation",
    "Usage",
    "Configuration",
    "Troubleshooting",
    "Background",
    "Timeline",
    "Budget",
    "Contacts",
    "Risks",
    "Glossary",
    "Next steps",
    "Requirements",
)


def outline(d: Draw) -> Instance:
    path = d.pick("path", ("guide.md", "manual.md", "docs/setup.md", "proposal.md"))
    heads = d.sample(HEADINGS, d.randint(3, 5))
    body = d.sample(SENTENCES, len(heads))
    title = f"{d.choice(WORDS).title()} {d.choice(('guide', 'handbook', 'overview'))}"
    text = f"# {title}\n\n" + "".join(f"## {h}\n{s}\n\n" for h, s in zip(heads, body, strict=True))
    return d.instance(
        files={path: text},
        read_only=True,
        expect_first_tool=("read_file", "grep", "shell"),
        checks=checks(
            answer={"contains_all": list(heads), "not_contains": [s.rstrip(".") for s in body]}
        ),
        gold=Solution(
            (Call("grep", {"pattern": "^#", "path": path}),), join_and(heads), tuple(heads)
        ),
    )


OUTLINE = Family(
    name="outline-headings",
    split="heldout",
    kind="read",
    wordings=(
        "What are the section headings in {path}?",
        "List the headings of {path}.",
        "Which sections are written in {path}?",
        "i need an outline of {path}, just its section titles",
        "{path} headings?",
    ),
    build=outline,
)


# --- count ----------------------------------------------------------------------------------


def csv_records(d: Draw) -> Instance:
    path = d.pick("path", ("customers.csv", "orders.csv", "members.csv", "data/signups.csv"))
    n = d.randint(4, 12)
    rows = [f"{name},{d.choice(CITIES)},{d.randint(100, 999)}" for name in d.sample(PEOPLE, n)]
    answer = f"{n} records (the header line not counted)."
    return d.instance(
        files={path: lines(["name,city,amount", *rows])},
        read_only=True,
        expect_first_tool=("count", "read_file", "shell"),
        checks=checks(answer={"number": n}),
        gold=Solution((Call("count", {"path": path}),), answer, (f"{n + 1} lines",)),
        fallback=Solution((Call("shell", {"command": f"wc -l {path}"}),), answer),
    )


CSV_RECORDS = Family(
    name="count-csv-records",
    split="heldout",
    kind="count",
    wordings=(
        "How many records are saved in {path}, not counting the header?",
        "Count the data rows in {path}; skip the header line.",
        "I need to know how many entries {path} has, excluding its header row.",
        "rows in {path} minus the header?",
        "{path}: number of records",
    ),
    build=csv_records,
)


# --- write ----------------------------------------------------------------------------------


def _csv_row(cells: list[str]) -> str:
    return SEP + f"{SEP},{SEP}".join(rf'"?{re.escape(c)}"?' for c in cells) + SEP


def csv_table(d: Draw) -> Instance:
    path = d.pick("path", ("stock.csv", "shopping.csv", "pantry.csv", "data/items.csv"))
    items = d.sample(ITEMS, d.randint(2, 4))
    counts = [str(n) for n in distinct_numbers(d.rng, len(items), 1, 24)]
    table = [["item", "quantity"], *([i, q] for i, q in zip(items, counts, strict=True))]
    d.let("rows", ", ".join(f"{i}: {q}" for i, q in zip(items, counts, strict=True)))
    pattern = r"(?i)\A\s*" + r"\r?\n".join(_csv_row(r) for r in table) + r"\s*\Z"
    return d.instance(
        files={"README.md": "# Home inventory\n"},
        expect_first_tool=("write_file", "shell"),
        checks=checks(files={path: {"regex": pattern}, "README.md": {"unchanged": True}}),
        gold=Solution(
            (Call("write_file", {"path": path, "content": lines(",".join(r) for r in table)}),),
            f"Created {path}.",
        ),
    )


CSV_TABLE = Family(
    name="write-csv-table",
    split="heldout",
    kind="write",
    wordings=(
        "Create {path} as a CSV with the columns item and quantity, holding these rows: {rows}.",
        "Can you save {rows} into {path} as a CSV table with the header item,quantity?",
        "{path} should be a CSV file: header item,quantity, then one row each for {rows}.",
        "i need a csv {path} (item,quantity) with {rows}",
    ),
    build=csv_table,
)


# --- edit -----------------------------------------------------------------------------------


def check_off(d: Draw) -> Instance:
    path = d.pick("path", ("checklist.md", "todo.md", "packing.md", "launch.md"))
    tasks = d.sample(TASK_LINES, d.randint(4, 5))
    done = set(d.sample(tasks, d.randint(0, 1)))
    item = d.pick("item", [t for t in tasks if t not in done])
    rows = [f"- [{'x' if t in done else ' '}] {t}" for t in tasks]
    before = lines(["# Checklist", *rows])
    body = "".join(
        rf"-{SEP}\[[xX]\]{SEP}{re.escape(t)}{SEP}\n" if t == item else re.escape(r) + r"\n"
        for t, r in zip(tasks, rows, strict=True)
    )
    return d.instance(
        files={path: before},
        expect_first_tool=("edit_file", "read_file"),
        checks=checks(files={path: {"regex": rf"\A# Checklist\n{body}\s*\Z"}}),
        gold=Solution(
            (
                Call(
                    "edit_file",
                    {"path": path, "old_string": f"- [ ] {item}", "new_string": f"- [x] {item}"},
                ),
            ),
            f"Ticked off {item}.",
        ),
    )


CHECK_OFF = Family(
    name="check-off-item",
    split="heldout",
    kind="edit",
    wordings=(
        "Mark {item} as done in {path}.",
        "Can you tick off '{item}' in {path}?",
        "I finished {item}; {path} should show it checked.",
        "check off {item} in {path}",
        "{path}: {item} is done, update its checkbox",
    ),
    build=check_off,
)


# --- files ----------------------------------------------------------------------------------


def move_by_extension(d: Draw) -> Instance:
    ext = d.pick("ext", ("log", "csv", "pdf", "png"))
    folder = d.pick("folder", ("archive", "attachments", "sorted", "stash"))
    other = d.choice(("md", "txt"))
    stems = d.sample(STEMS, d.randint(2, 4) + 2)
    moved = [f"{s}.{ext}" for s in stems[:-2]]
    kept = [f"{s}.{other}" for s in stems[-2:]]
    files = {n: f"{n} {d.randint(100, 999)}\n" for n in [*moved, *kept]}
    if d.rng.random() < 0.5:
        kept.append(f"{folder}/index.{other}")
        files[kept[-1]] = "index\n"
    file_checks: dict[str, object] = {f"{folder}/{n}": {"equals": files[n]} for n in moved}
    file_checks |= {n: {"absent": True} for n in moved}
    file_checks |= {n: {"unchanged": True} for n in kept}
    return d.instance(
        files=files,
        expect_first_tool=("move_file", "shell", "glob", "list_dir"),
        checks=checks(files=file_checks),
        gold=Solution(
            tuple(Call("move_file", {"source": n, "destination": f"{folder}/{n}"}) for n in moved),
            f"Moved {len(moved)} files into {folder}/.",
        ),
        fallback=Solution(
            (Call("shell", {"command": f"mkdir -p {folder} && mv {' '.join(moved)} {folder}/"}),),
            f"Moved {len(moved)} files into {folder}/.",
        ),
    )


MOVE_BY_EXTENSION = Family(
    name="move-by-extension",
    split="heldout",
    kind="files",
    wordings=(
        "Move all the .{ext} files into a folder called {folder}.",
        "Could you gather every .{ext} file from the top level into {folder}/?",
        "The .{ext} files should live in {folder}, not at the top level.",
        "tidy up: .{ext} files -> {folder}/",
        "can all my .{ext} files go in {folder}?",
    ),
    build=move_by_extension,
)


# --- calculator -----------------------------------------------------------------------------


def percent_change(d: Draw) -> Instance:
    d.pick("thing", ("rent", "electricity bill", "subscription", "salary"))
    old = d.number("a", 40, 980, avoid=[n for n in range(40, 981) if n % 20 or n == 100])
    rise = d.rng.choice([p for p in range(3, 61) if old * p % 100 == 0])
    new = d.let("b", old + old * rise // 100)
    return d.instance(
        read_only=True,
        expect_first_tool=("calculator",),
        checks=checks(answer={"number": rise, "tolerance": 0.01}),
        gold=Solution(
            (Call("calculator", {"expression": f"({new} - {old}) / {old} * 100"}),),
            f"An increase of {rise}%.",
        ),
    )


PERCENT_CHANGE = Family(
    name="calc-percent-change",
    split="heldout",
    kind="calc",
    wordings=(
        "My {thing} went from {a} to {b}. By what percentage did it go up?",
        "Work out the percentage increase from {a} to {b}.",
        "what % increase is {a} -> {b}",
        "What's the rise from {a} to {b}, written as a percentage?",
        "I need to know how many percent higher {b} is than {a}.",
    ),
    build=percent_change,
)


# --- http -----------------------------------------------------------------------------------


def table_price(d: Draw) -> Instance:
    page = d.pick("page", ("pricing.html", "plans.html", "rates.html"))
    plans = d.sample(("Starter", "Basic", "Team", "Pro", "Business", "Enterprise"), d.randint(3, 4))
    prices = distinct_numbers(d.rng, len(plans), 5, 499)
    plan = d.pick("plan", plans)
    price = prices[plans.index(plan)]
    rows = "".join(
        f"<tr><td>{p}</td><td>${c}</td></tr>" for p, c in zip(plans, prices, strict=True)
    )
    body = (
        f"<html><head><title>Plans</title></head><body><h1>Our plans</h1>"
        f"<table><tr><th>Plan</th><th>Price per month</th></tr>{rows}</table>"
        f"<p>Prices include tax.</p></body></html>\n"
    )
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(
            answer={
                "contains": [str(price)],
                "not_contains": [str(c) for c in prices if c != price],
            }
        ),
        gold=Solution(
            (Call("http_get", {"url": f"{{base_url}}/{page}"}),),
            f"The {plan} plan costs ${price} per month.",
            (f"${price}",),
        ),
    )


TABLE_PRICE = Family(
    name="http-table-price",
    split="heldout",
    kind="http",
    wordings=(
        "How much is the {plan} plan on {base_url}/{page}?",
        "Look up the monthly price of {plan} at {base_url}/{page}.",
        "What price is written for the {plan} plan on {base_url}/{page}?",
        "{plan} price @ {base_url}/{page}",
        "I want to know what {plan} costs per month, see {base_url}/{page}",
    ),
    build=table_price,
)


# --- memory ---------------------------------------------------------------------------------


def _code(d: Draw, thing: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"

    def pair() -> str:
        return d.choice(letters) + d.choice(letters)

    return {
        "licence plate": lambda: f"{pair()}-{d.randint(100, 999)}-{pair()}",
        "library card number": lambda: f"LIB-{d.randint(100000, 999999)}",
        "frequent flyer number": lambda: f"FF{d.randint(1000000, 9999999)}",
        "insurance policy number": lambda: f"POL-{d.randint(10000, 99999)}",
    }[thing]()


def recall_to_file(d: Draw) -> Instance:
    things = ("licence plate", "library card number", "frequent flyer number")
    thing = d.pick("thing", (*things, "insurance policy number"))
    other = d.choice((*things, "insurance policy number"), avoid=[thing])
    value, other_value = _code(d, thing), _code(d, other)
    dst = d.pick("dst", ("details.txt", "form.txt", "note.txt", "out/info.txt"))
    return d.instance(
        memories=(f"The user's {thing} is {value}.", f"The user's {other} is {other_value}."),
        files={"README.md": "# Scratch\n"},
        expect_first_tool=("recall",),
        checks=checks(
            files={
                dst: {"contains": value, "not_contains": other_value},
                "README.md": {"unchanged": True},
            }
        ),
        gold=Solution(
            (
                Call("recall", {"query": thing}),
                Call("write_file", {"path": dst, "content": f"{value}\n"}),
            ),
            f"Saved your {thing} ({value}) in {dst}.",
            (value,),
        ),
    )


RECALL_TO_FILE = Family(
    name="recall-to-file",
    split="heldout",
    kind="memory",
    wordings=(
        "Write my {thing} into {dst}. You should have it in memory.",
        "Could you put my {thing} in a file called {dst}? I told you it before.",
        "{dst} should contain my {thing}, the one you remember.",
        "i need my {thing} saved in {dst}, check your memory",
        "What's my {thing}? Save it to {dst} too.",
    ),
    build=recall_to_file,
)


# --- no tool --------------------------------------------------------------------------------


def sort_names(d: Draw) -> Instance:
    names = d.sample(PEOPLE, d.randint(4, 5))
    ordered = sorted(names)
    if names == ordered:
        names = [*names[1:], names[0]]
    d.let("names", ", ".join(names))
    gap = r"(?:[\W\d_]|\band\b)+"
    return d.instance(
        read_only=True,
        expect_first_tool=("final_answer",),
        checks=checks(answer={"regex": "(?is)" + gap.join(ordered)}, max_steps=2),
        gold=Solution((), ", ".join(ordered)),
    )


SORT_NAMES = Family(
    name="sort-names-in-message",
    split="heldout",
    kind="no_tool",
    wordings=(
        "Put these names in alphabetical order: {names}",
        "Can you sort {names} from A to Z?",
        "How would {names} look written in alphabetical order?",
        "alphabetize: {names}",
        "I need {names} sorted alphabetically, please.",
    ),
    build=sort_names,
)


# --- several steps --------------------------------------------------------------------------


def save_page(d: Draw) -> Instance:
    page = d.pick("page", ("notes.txt", "motd.txt", "agenda.txt", "changes.txt"))
    dst = d.pick("dst", (page, f"downloads/{page}", "saved.txt", "copy.txt"))
    text = lines(d.sample(SENTENCES, d.randint(2, 4)))
    return d.instance(
        http_pages={f"/{page}": text},
        files={"README.md": "# Workspace\n"},
        expect_first_tool=("http_get",),
        checks=checks(
            files={
                dst: {"contains": text.splitlines(), "not_contains": ["content-type", "HTTP 200"]},
                "README.md": {"unchanged": True},
            }
        ),
        gold=Solution(
            (
                Call("http_get", {"url": f"{{base_url}}/{page}"}),
                Call("write_file", {"path": dst, "content": text}),
            ),
            f"Saved to {dst}.",
        ),
    )


SAVE_PAGE = Family(
    name="http-save-to-file",
    split="heldout",
    kind="multi_step",
    wordings=(
        "Download {base_url}/{page} and save it as {dst}.",
        "Can you fetch {base_url}/{page} and store its text in {dst}?",
        "I'd like a local copy of {base_url}/{page} at {dst}.",
        "{base_url}/{page} -> {dst}",
        "save the page {base_url}/{page} to {dst} please",
    ),
    build=save_page,
)


FAMILIES: tuple[Family, ...] = (
    OUTLINE,
    CSV_RECORDS,
    CSV_TABLE,
    CHECK_OFF,
    MOVE_BY_EXTENSION,
    PERCENT_CHANGE,
    TABLE_PRICE,
    RECALL_TO_FILE,
    SORT_NAMES,
    SAVE_PAGE,
)
