"""Small vocabularies the family builders draw from, and helpers shared by
them. Words are chosen so that no entry is a substring of another in the
same list (an answer check for one must not pass on a neighbour)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from pydantic import JsonValue

from agentkit.evals.cases import Checks

PEOPLE = (
    "Priya",
    "Tomas",
    "Ingrid",
    "Kwame",
    "Lucia",
    "Hiroshi",
    "Amara",
    "Dmitri",
    "Fatima",
    "Oskar",
    "Beatriz",
    "Rahul",
    "Sienna",
    "Mateo",
    "Yusuf",
    "Greta",
)
SURNAMES = (
    "Natarajan",
    "Berger",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castillo",
    "Sato",
    "Novak",
    "Haddad",
    "Kowalski",
)
FRUITS = ("apple", "pear", "plum", "mango", "kiwi", "cherry", "melon", "lime", "fig", "papaya")
COLOURS = ("red", "teal", "amber", "violet", "green", "orange", "indigo", "maroon", "beige")
CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Porto", "Dublin", "Quito", "Tbilisi")
WORDS = (
    "lantern",
    "harbor",
    "meadow",
    "quartz",
    "falcon",
    "pepper",
    "velvet",
    "glacier",
    "cobalt",
    "juniper",
    "marble",
    "thistle",
    "saffron",
    "walnut",
    "copper",
    "orchid",
)
TOPICS = ("invoice", "refund", "backup", "deadline", "budget", "warranty", "holiday", "password")
STEMS = (
    "notes",
    "plan",
    "draft",
    "journal",
    "ideas",
    "report",
    "summary",
    "agenda",
    "memo",
    "tasks",
    "log",
    "list",
    "letter",
    "record",
    "status",
    "outline",
)
FOLDERS = ("docs", "notes", "archive", "reports", "data", "drafts", "misc", "work", "inbox")
ITEMS = (
    "milk",
    "eggs",
    "bread",
    "rice",
    "butter",
    "cheese",
    "onions",
    "coffee",
    "tea",
    "honey",
    "lentils",
    "yogurt",
)
TASK_LINES = (
    "water the plants",
    "call the bank",
    "book train tickets",
    "renew passport",
    "pay the rent",
    "fix the bike",
    "email the landlord",
    "buy stamps",
    "clean the oven",
    "return library books",
    "order new glasses",
    "back up the laptop",
)
SENTENCES = (
    "The morning train was late again.",
    "We painted the fence on Sunday.",
    "A small boat drifted past the pier.",
    "The bakery opens before sunrise.",
    "Rain kept everyone indoors all afternoon.",
    "The committee approved the new schedule.",
    "Our neighbour grows tomatoes on the balcony.",
    "The museum closes early on holidays.",
    "Fresh snow covered the mountain road.",
    "The team celebrated with a long lunch.",
    "Someone left a bicycle by the gate.",
    "The river rose after the storm.",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def checks(**fields: object) -> Checks:
    """A :class:`Checks` from keyword fields (as a YAML case spells them)."""
    return Checks.model_validate(fields)


def yes_no(answer: bool) -> dict[str, JsonValue]:
    """An answer check: the word yes (or no), and not the other one."""
    said, other = ("yes", "no") if answer else ("no", "yes")
    return {"regex": rf"(?is)^(?!.*\b{other}\b).*\b{said}\b"}


def file_name(stem: str, ext: str) -> str:
    return f"{stem}.{ext}"


def words_regex(line: str) -> str:
    """A regex for ``line`` that tolerates other spacing between its words."""
    return r"\s+".join(re.escape(w) for w in line.split())


def distinct_numbers(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """``count`` numbers in [low, high] none of whose digits spell another
    (so an answer check for one never passes on a neighbour)."""
    chosen: list[int] = []
    while len(chosen) < count:
        n = rng.randint(low, high)
        if all(str(n) not in str(m) and str(m) not in str(n) for m in chosen):
            chosen.append(n)
    return chosen


def join_and(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def lines(items: Sequence[str]) -> str:
    """``items`` one per line, with a final newline."""
    return "".join(f"{item}\n" for item in items)
