"""Dev families for the calculator, the clock, the shell and http_get."""

from __future__ import annotations

from agentkit.evals.families.base import Call, Draw, Family, Instance, Solution
from agentkit.evals.families.vocab import (
    CITIES,
    FOLDERS,
    SENTENCES,
    STEMS,
    WORDS,
    checks,
    distinct_numbers,
)

TIME_RE = r"\d{1,2}:\d{2}"
ZONES = ("UTC", "Europe/Lisbon", "Asia/Tokyo", "America/New_York", "Australia/Sydney")
DATE_RE = (
    r"(?i)\d{4}-\d{2}-\d{2}|\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4}"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2},? \d{4}"
)


def calc_instance(d: Draw, expression: str, value: float, tolerance: float = 0.0) -> Instance:
    """A calculator task: the gold call, and an answer check on ``value``."""
    # An integer is shown whole: f"{12**5:g}" is "248832", f"{19**5:g}" "2.4761e+06".
    shown = str(int(value)) if float(value).is_integer() else f"{value:g}"
    return d.instance(
        read_only=True,
        expect_first_tool=("calculator",),
        checks=checks(answer={"number": value, "tolerance": tolerance}),
        gold=Solution((Call("calculator", {"expression": expression}),), shown, (shown,)),
    )


# --- arithmetic -----------------------------------------------------------------------------


def multiply(d: Draw) -> Instance:
    a, b = d.number("a", 12, 99), d.number("b", 11, 49)
    return calc_instance(d, f"{a} * {b}", a * b)


MULTIPLY = Family(
    name="calc-multiply",
    split="dev",
    kind="calc",
    wordings=(
        "What is {a} times {b}?",
        "Multiply {a} by {b}.",
        "I need the product of {a} and {b}.",
        "{a}*{b}=?",
        "could you work out {a} x {b} for me",
    ),
    build=multiply,
)


def add(d: Draw) -> Instance:
    a, b = d.number("a", 120, 4999), d.number("b", 120, 4999)
    return calc_instance(d, f"{a} + {b}", a + b)


ADD = Family(
    name="calc-add",
    split="dev",
    kind="calc",
    wordings=(
        "add {a} and {b}",
        "What's {a} plus {b}?",
        "Can you sum {a} and {b} for me?",
        "{a}+{b}",
    ),
    build=add,
)


def percent(d: Draw) -> Instance:
    p = d.pick("p", ("5", "10", "15", "20", "25", "40"))
    n = d.number("n", 2, 60) * 20
    d.let("n", n)
    return calc_instance(d, f"{p} / 100 * {n}", int(p) * n / 100, 0.001)


PERCENT = Family(
    name="calc-percent",
    split="dev",
    kind="calc",
    wordings=(
        "What's {p}% of {n}?",
        "Calculate {p} percent of {n}.",
        "I'd like to know what {p}% of {n} comes to.",
        "{p} pct of {n} pls",
    ),
    build=percent,
)


def sqrt(d: Draw) -> Instance:
    root = d.randint(13, 99)
    square = d.let("square", root * root)
    return calc_instance(d, f"sqrt({square})", root)


SQRT = Family(
    name="calc-sqrt",
    split="dev",
    kind="calc",
    wordings=(
        "Compute the square root of {square}.",
        "What is the square root of {square}?",
        "I need the square root of {square}, please.",
        "sqrt {square}",
    ),
    build=sqrt,
)


def divide(d: Draw) -> Instance:
    b = d.number("b", 3, 16)
    quotient = d.randint(12, 250)
    a = d.let("a", b * quotient)
    return calc_instance(d, f"{a} / {b}", quotient)


DIVIDE = Family(
    name="calc-divide",
    split="dev",
    kind="calc",
    wordings=(
        "Divide {a} by {b} for me.",
        "What is {a} divided by {b}?",
        "Could you tell me how much {a} / {b} is?",
        "{a}/{b}",
    ),
    build=divide,
)


# --- the clock ------------------------------------------------------------------------------


def _clock(d: Draw, regex: str, args: dict[str, str] | None = None) -> Instance:
    return d.instance(
        read_only=True,
        expect_first_tool=("current_time",),
        checks=checks(answer={"regex": regex}, tools_called=["current_time"]),
        gold=Solution((Call("current_time", args or {}),), "It is {result}"),
    )


def time_now(d: Draw) -> Instance:
    return _clock(d, TIME_RE)


def time_date(d: Draw) -> Instance:
    return _clock(d, DATE_RE)


def time_in_zone(d: Draw) -> Instance:
    return _clock(d, TIME_RE, {"timezone": d.pick("zone", ZONES)})


TIME_NOW = Family(
    name="time-now",
    split="dev",
    kind="time",
    wordings=(
        "What time is it right now?",
        "Tell me the current time.",
        "I'd like to know the time, please.",
        "wat time is it",
    ),
    build=time_now,
)

TIME_DATE = Family(
    name="time-date",
    split="dev",
    kind="time",
    wordings=(
        "what's today's date?",
        "Tell me the date today.",
        "Could you check what date it is?",
        "date pls",
    ),
    build=time_date,
)

TIME_IN_ZONE = Family(
    name="time-in-zone",
    split="dev",
    kind="time",
    wordings=(
        "Tell me the current time in {zone}.",
        "What time is it in {zone} now?",
        "I need the current {zone} time.",
        "time in {zone}?",
    ),
    build=time_in_zone,
)


# --- the shell ------------------------------------------------------------------------------


def shell_output(d: Draw) -> Instance:
    if d.rng.random() < 0.5:
        word = d.choice(WORDS)
        command, output = f"echo {word}", word
    else:
        a, b = d.randint(3, 19), d.randint(3, 19)
        command, output = f"expr {a} \\* {b}", str(a * b)
    d.let("command", command)
    check = {"number": int(output)} if output.isdigit() else {"contains": [output]}
    return d.instance(
        read_only=True,
        expect_first_tool=("shell",),
        checks=checks(answer=check, tools_called=["shell"]),
        gold=Solution((Call("shell", {"command": command}),), f"It prints {output}.", (output,)),
    )


SHELL_OUTPUT = Family(
    name="shell-run-output",
    split="dev",
    kind="shell",
    wordings=(
        "Run `{command}` in the shell and tell me what it prints.",
        "What does `{command}` output? Run it.",
        "Could you run {command} for me and report the result?",
        "shell: {command}",
    ),
    build=shell_output,
)


def shell_wc(d: Draw) -> Instance:
    path = d.let("path", f"{d.choice(('essay', 'intro', 'bio', 'pitch'))}.txt")
    text = " ".join(d.sample(SENTENCES, 2))
    n = len(text.split())
    return d.instance(
        files={path: text + "\n"},
        read_only=True,
        expect_first_tool=("shell",),
        checks=checks(answer={"number": n}, tools_called=["shell"]),
        gold=Solution((Call("shell", {"command": f"wc -w {path}"}),), f"{n} words.", (str(n),)),
    )


SHELL_WC = Family(
    name="shell-wc-words",
    split="dev",
    kind="shell",
    wordings=(
        "Use wc to count the words in {path}.",
        "Run wc -w on {path} and tell me the word count.",
        "With the shell's wc, how many words does {path} have?",
        "wc -w {path}",
    ),
    build=shell_wc,
)


def shell_ls(d: Draw) -> Instance:
    ext = d.pick("ext", (".log", ".csv", ".sql", ".pdf"))
    stems = d.sample(STEMS, 3)
    target = f"{stems[0]}{ext}"
    files = {
        target: "x\n",
        f"{stems[1]}.yaml": "debug: false\n",
        f"{stems[2]}.go": "package main\n",
    }
    return d.instance(
        files=files,
        read_only=True,
        expect_first_tool=("shell", "list_dir", "glob"),
        checks=checks(answer={"contains": [target], "not_contains": [f"{stems[1]}.yaml"]}),
        gold=Solution((Call("shell", {"command": "ls"}),), target, (target,)),
    )


SHELL_LS = Family(
    name="shell-ls-ext",
    split="dev",
    kind="shell",
    wordings=(
        "Run ls and tell me which file ends in {ext}",
        "Use ls to find the {ext} file here.",
        "Which file here ends in {ext}? Check with ls.",
        "ls, then tell me the {ext} file",
    ),
    build=shell_ls,
)


def shell_touch(d: Draw) -> Instance:
    name = d.pick("name", ("done.flag", "ready.flag", ".keep", "LOCK", "started.marker"))
    return d.instance(
        files={f"{d.choice(FOLDERS)}/readme.txt": "keep\n"},
        expect_first_tool=("shell",),
        checks=checks(files={name: {"equals": ""}}, tools_called=["shell"]),
        gold=Solution((Call("shell", {"command": f"touch {name}"}),), f"Created {name}."),
    )


SHELL_TOUCH = Family(
    name="shell-touch",
    split="dev",
    kind="shell",
    wordings=(
        "Use the shell to create an empty file called {name} (touch {name}).",
        "Run touch {name} in the shell.",
        "Can you create an empty {name} with the shell?",
        "touch {name}",
    ),
    build=shell_touch,
)


# --- http_get -------------------------------------------------------------------------------


def http_title(d: Draw) -> Instance:
    page = d.pick("page", ("index.html", "about.html", "shop.html", "home.html"))
    title = f"{d.choice(WORDS).title()} {d.choice(('Widgets', 'Bakery', 'Studio', 'Travel'))}"
    heading = d.choice(("Welcome", "Hello", "Latest news"))
    body = (
        f"<!doctype html>\n<html><head><title>{title}</title></head>\n"
        f"<body><h1>{heading}</h1><p>{d.choice(SENTENCES)}</p></body></html>\n"
    )
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer={"contains": [title]}),
        gold=Solution(
            (Call("http_get", {"url": f"{{base_url}}/{page}"}),), f"The title is {title}.", (title,)
        ),
    )


HTTP_TITLE = Family(
    name="http-title",
    split="dev",
    kind="http",
    wordings=(
        "Fetch {base_url}/{page} and tell me the page title.",
        "What's the title of the page at {base_url}/{page}?",
        "I need the <title> of {base_url}/{page}.",
        "title of {base_url}/{page}?",
    ),
    build=http_title,
)


def http_field(d: Draw) -> Instance:
    page = d.pick("page", ("status.json", "health.json", "info.json"))
    field = d.pick("field", ("status", "region", "owner", "tier"))
    values = {
        "status": ("degraded", "operational", "maintenance"),
        "region": tuple(c.lower() for c in CITIES),
        "owner": ("billing-team", "platform-team", "search-team"),
        "tier": ("gold", "silver", "bronze"),
    }
    value = d.choice(values[field])
    others = [k for k in values if k != field][:2]
    other_values = {k: d.choice(values[k], avoid=[value]) for k in others}
    body = "{" + ", ".join(f'"{k}": "{v}"' for k, v in {field: value, **other_values}.items()) + "}"
    return d.instance(
        http_pages={f"/{page}": body},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer={"contains": [value], "not_contains": list(other_values.values())}),
        gold=Solution((Call("http_get", {"url": f"{{base_url}}/{page}"}),), value, (value,)),
    )


HTTP_FIELD = Family(
    name="http-json-field",
    split="dev",
    kind="http",
    wordings=(
        "Get {base_url}/{page} and tell me what the {field} field says.",
        "What {field} does {base_url}/{page} report?",
        "Could you check the {field} at {base_url}/{page}?",
        "{field} from {base_url}/{page}",
    ),
    build=http_field,
)


def http_text(d: Draw) -> Instance:
    page = d.pick("page", ("version.txt", "VERSION", "release.txt"))
    major, minor, patch = distinct_numbers(d.rng, 3, 1, 40)
    version = f"{major}.{minor}.{patch}"
    return d.instance(
        http_pages={f"/{page}": f"{version}\n"},
        read_only=True,
        expect_first_tool=("http_get",),
        checks=checks(answer={"contains": [version]}),
        gold=Solution(
            (Call("http_get", {"url": f"{{base_url}}/{page}"}),), f"Version {version}.", (version,)
        ),
    )


HTTP_TEXT = Family(
    name="http-version",
    split="dev",
    kind="http",
    wordings=(
        "what version is published at {base_url}/{page} ?",
        "Fetch {base_url}/{page} and tell me the version.",
        "I'd like to know which version {base_url}/{page} lists.",
        "version @ {base_url}/{page}",
    ),
    build=http_text,
)


FAMILIES: tuple[Family, ...] = (
    MULTIPLY,
    ADD,
    PERCENT,
    SQRT,
    DIVIDE,
    TIME_NOW,
    TIME_DATE,
    TIME_IN_ZONE,
    SHELL_OUTPUT,
    SHELL_WC,
    SHELL_LS,
    SHELL_TOUCH,
    HTTP_TITLE,
    HTTP_FIELD,
    HTTP_TEXT,
)
