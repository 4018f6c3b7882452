"""Requests a user might type for each built-in tool, keyed by tool name.

Tool routing compares a task with a tool's example requests (a tool without
any is compared by its name and description), and the worked examples a
small model is shown before the task are the complete ones (request, call,
result and answer). Answers copy the line of the result that answers the
request: the one pattern a 270M model reliably continues.

Add your own tool's examples with :func:`add_examples`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Required

from langchain_core.tools import BaseTool
from typing_extensions import TypedDict

from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.tools.memory import PASSAGES_HEADER


class ToolExample(TypedDict, total=False):
    """A request a user might type for this tool; with ``args``, ``result``
    and ``answer`` it is a worked example (request → call → result → answer)."""

    request: Required[str]
    args: dict[str, Any]
    result: str
    answer: str


def ask(*requests: str) -> list[ToolExample]:
    return [ToolExample(request=r) for r in requests]


EXAMPLES: dict[str, list[ToolExample]] = {
    "read_file": [
        ToolExample(
            request="What is the deadline in plan.txt?",
            args={"path": "plan.txt"},
            result="plan.txt (lines 1-3 of 3)\nProject: Kite\nDeadline: 14 March\nOwner: Sam",
            answer="Deadline: 14 March",
        ),
        # Not a worked example: "What's the first line of poem.txt?" would
        # pick it and copy its start_line of -2.
        *ask(
            "What are the last two lines of diary.txt?",
            "Show me what config.yaml contains",
            "Who is listed as the author in about.md?",
            "How many lines does data.csv have?",
            "Read setup.cfg and tell me the version",
        ),
    ],
    "list_dir": [
        ToolExample(
            request="What is in the photos folder?",
            args={"path": "photos"},
            result="3 entries: old/, beach.jpg, city.jpg\nold/\nbeach.jpg (81234 bytes)\n"
            "city.jpg (90112 bytes)",
            answer="3 entries: old/, beach.jpg, city.jpg",
        ),
        *ask("List the files in src", "How many files are in the uploads directory?"),
    ],
    "glob": [
        ToolExample(
            request="Find all the CSV files",
            args={"pattern": "**/*.csv"},
            result="2 matches: reports/q1.csv, sales.csv\nreports/q1.csv\nsales.csv",
            answer="2 matches: reports/q1.csv, sales.csv",
        ),
        *ask("List every JSON file in the project", "Which markdown files are under notes/?"),
    ],
    "grep": [
        ToolExample(
            request="Which file mentions the word budget?",
            args={"pattern": "budget"},
            result="finance/plan.md:3: The budget is 400 euros.",
            answer="finance/plan.md:3: The budget is 400 euros.",
        ),
        *ask("Search the code for FIXME", "On which line of server.log does WARNING appear?"),
    ],
    "write_file": [
        ToolExample(
            request="Write the text see you soon to the file bye.txt",
            args={"path": "bye.txt", "content": "see you soon"},
            result="created bye.txt (1 lines, 12 bytes)",
            answer="created bye.txt (1 lines, 12 bytes)",
        ),
        *ask(
            "Create a file called todo.md with the text buy milk", "Save the number 7 in result.txt"
        ),
    ],
    "edit_file": [
        ToolExample(
            request="In app.ini, change the colour from blue to green.",
            args={"path": "app.ini", "old_string": "blue", "new_string": "green"},
            result="edited app.ini (+1 -1 lines)",
            answer="edited app.ini (+1 -1 lines)",
        ),
        *ask("Replace foo with bar in main.py"),
        ToolExample(
            request="Append the line 'the end' to story.txt",
            args={"path": "story.txt", "old_string": "", "new_string": "the end"},
            result="edited story.txt (+1 -0 lines)",
            answer="edited story.txt (+1 -0 lines)",
        ),
        *ask("set debug to true in settings.toml", "fix the typo 'teh' in notes.md"),
    ],
    "copy_file": [
        ToolExample(
            request="copy the file plan.doc to plan-copy.doc",
            args={"source": "plan.doc", "destination": "plan-copy.doc"},
            result="copied plan.doc to plan-copy.doc (40 lines)",
            answer="copied plan.doc to plan-copy.doc (40 lines)",
        ),
        *ask(
            "make a backup copy of main.py",
            "Can you copy photo.png to exports/photo.png?",
            "I need a backup of budget.csv in the archive folder",
            "cp main.py main_backup.py",
        ),
    ],
    "move_file": [
        ToolExample(
            request="rename the file plan.doc to plan-final.doc",
            args={"source": "plan.doc", "destination": "plan-final.doc"},
            result="moved plan.doc to plan-final.doc",
            answer="moved plan.doc to plan-final.doc",
        ),
        *ask(
            "move old.log into the archive directory",
            "could you move photo.jpg to the pictures folder?",
            "I need data.json renamed to data-old.json",
            "mv a.py b.py",
        ),
    ],
    "sort_lines": [
        ToolExample(
            request="sort scores.txt from highest to lowest",
            args={"path": "scores.txt", "descending": True},
            result="sorted 6 lines of scores.txt",
            answer="sorted 6 lines of scores.txt",
        ),
        *ask(
            "put fruits.csv in alphabetical order",
            "sort ids.txt numerically",
            "I need cities.txt sorted",
            "Sort tags.txt into tags-sorted.txt without repeats",
        ),
    ],
    "dedupe_lines": [
        ToolExample(
            request="get rid of the duplicate rows in urls.txt",
            args={"path": "urls.txt"},
            result="removed 4 duplicate lines from urls.txt (21 left)",
            answer="removed 4 duplicate lines from urls.txt (21 left)",
        ),
        *ask(
            "could you remove duplicates from tags.txt?",
            "deduplicate ids.txt",
            "I want duplicates removed from tags.txt",
            "dedupe urls.txt",
        ),
    ],
    "count": [
        ToolExample(
            request="how many chars does bio.txt have",
            args={"path": "bio.txt"},
            result="bio.txt has 14 lines\nbio.txt has 212 words\nbio.txt has 1180 characters",
            answer="bio.txt has 1180 characters",
        ),
        *ask(
            "how big is story.txt in lines, words and characters?",
            "how often does the word refund appear in emails.log?",
            "line count of data.tsv",
            "I need the number of files in downloads/",
        ),
    ],
    "read_field": [
        ToolExample(
            request="what database host does app.yaml use?",
            args={"path": "app.yaml", "key": "database.host"},
            result="database.host = db.internal",
            answer="database.host = db.internal",
        ),
        *ask(
            "Which host does db.toml connect to?",
            "What's the value of max_retries in service.json?",
            "I need the API_URL from .env",
            "look up cache_ttl in app.yaml",
        ),
    ],
    "set_field": [
        ToolExample(
            request="set the port in server.toml to 9090",
            args={"path": "server.toml", "key": "port", "value": "9090"},
            result="set server.port = 9090 in server.toml (was 8080)",
            answer="set server.port = 9090 in server.toml (was 8080)",
        ),
        *ask(
            "change max_retries in service.json to 5",
            "I need debug turned on in app.yaml",
            "could you update the LOG_LEVEL in .env to info?",
            "settings.ini: timeout should be 30",
        ),
    ],
    "shell": [
        ToolExample(
            request="Run pwd and tell me the output",
            args={"command": "pwd"},
            result="exit code 0\n/home/sam/project",
            answer="/home/sam/project",
        ),
        *ask(
            "Use the shell to count the lines in a.txt with wc",
            "execute echo hi in the terminal",
            "run the command date",
        ),
    ],
    "calculator": [
        ToolExample(
            request="What is 12 times 7?",
            args={"expression": "12 times 7"},
            result="84",
            answer="84",
        ),
        *ask("add 17 and 25", "What's 20% of 150?", "square root of 81", "divide 90 by 4"),
    ],
    "http_get": [
        ToolExample(
            request="What does http://example.org/motd.txt say?",
            args={"url": "http://example.org/motd.txt"},
            result="HTTP 200 OK http://example.org/motd.txt\ncontent-type: text/plain\n\n"
            "Have a nice day!",
            answer="Have a nice day!",
        ),
        *ask(
            "Fetch https://api.example.com/status.json",
            "What is the title of the page at http://site.test/index.html?",
        ),
    ],
    "current_time": [
        ToolExample(
            request="What time is it?",
            args={},
            result="2026-05-04T09:30:12+00:00 (Monday, 04 May 2026, 09:30:12 UTC)",
            answer="2026-05-04T09:30:12+00:00 (Monday, 04 May 2026, 09:30:12 UTC)",
        ),
        *ask("What's the date today?", "what day is it"),
    ],
    "search_docs": [
        ToolExample(
            request="What do my documents say about refunds? Cite the source.",
            args={"query": "refunds"},
            result=PASSAGES_HEADER + "\n\n[policies.md:4-6]\nRefunds are paid within 14 days.",
            answer="Refunds are paid within 14 days. [policies.md:4-6]",
        ),
        *ask(
            "Look up the VPN setup in my notes",
            "According to the manual, how do I reset it?",
            "Search the docs: what is the expense limit? Cite the file.",
            "How many sick days do staff get according to the handbook?",
        ),
    ],
    "remember": [
        ToolExample(
            request="Remember that my bike lock code is 2231.",
            args={"text": "my bike lock code is 2231"},
            result="Remembered: my bike lock code is 2231 [memory:5f2c1a]",
            answer="Remembered: my bike lock code is 2231.",
        ),
        *ask("Please remember I like green tea", "Keep in mind that my dog is called Rex"),
    ],
    "recall": [
        ToolExample(
            request="What is my dog called? You should know it.",
            args={"query": "dog name"},
            result="The user's dog is called Rex. [memory:81b0e4, stored 2026-04-02T10:12:00+00:00]",
            answer="The user's dog is called Rex.",
        ),
        *ask(
            "Do you remember my favourite food?",
            "which city do I live in? I told you earlier",
            "what's my favourite band? you saved it before",
            "Check your memory: which car do I drive?",
        ),
    ],
    # Requests answered without any tool: routing ranks final_answer by them.
    FINAL_ANSWER_TOOL: ask(
        "Say hi to Tom.",
        "Reply with the word yes.",
        "My name is Ana. What is my name?",
        "Repeat after me: it is sunny today.",
        "Just say OK.",
        "Thank you, that's all!",
        "Which number is bigger, 7 or 3?",
        "Give me a one-word answer: is ice cold?",
    ),
}

# Answering without a tool is a move too: one worked example of it.
DIRECT_ANSWER = ToolExample(request="Please greet the team.", answer="Hello, team!")


def add_examples(tool_name: str, examples: Sequence[ToolExample]) -> None:
    """Give a tool (yours, or an MCP server's) example requests for routing
    and worked examples."""
    EXAMPLES[tool_name] = [*EXAMPLES.get(tool_name, ()), *examples]


def examples_for(tool: BaseTool) -> list[ToolExample]:
    return list(EXAMPLES.get(tool.name, ()))
