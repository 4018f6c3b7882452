"""Render training examples from the dev task families to a JSONL file.

``python -m agentkit.tune.render N SEED OUT.jsonl [--prefix breadth3-]
[--balanced] [--forms]`` draws ``N`` episodes (wording frames varied) from the
training families (:func:`agentkit.evals.families.training_families`;
``--prefix``: only those whose names start with it; ``--balanced``: each
family in turn; ``--forms``: tasks also put in other users' forms,
:mod:`agentkit.tune.forms`), plays each through the agent with the prompts the
``bundled`` recipe renders (:meth:`~agentkit.tune.recipe.Recipe.render_settings`:
greedy, compact tool prompt, the tuned preset), and writes the examples of the episodes
that reached their outcome: the data of a later training stage
(``agentkit tune --data OUT.jsonl --start-from ...``; PROVENANCE.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agentkit.config import load_settings
from agentkit.errors import AgentkitError
from agentkit.tune.episodes import episodes_from_families, examples_of, render_episodes
from agentkit.tune.examples import write_jsonl
from agentkit.tune.recipe import get_recipe


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of episodes")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentkit.tune.render")
    parser.add_argument("episodes", type=_positive)
    parser.add_argument("seed", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--prefix", default="", help="only families whose names start with it")
    parser.add_argument("--balanced", action="store_true", help="each family in turn")
    parser.add_argument(
        "--forms", action="store_true", help="tasks also in other users' forms (tune.forms)"
    )
    args = parser.parse_args(argv)
    # The prompts a later stage trains on are those the recipe's stage 1 saw.
    settings = get_recipe("bundled").render_settings(load_settings())
    try:
        episodes = episodes_from_families(
            "dev",
            args.episodes,
            args.seed,
            vary=True,
            prefix=args.prefix,
            balanced=args.balanced,
            forms=args.forms,
        )
    except AgentkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runs = render_episodes(episodes, settings)
    examples = examples_of(runs)
    try:
        write_jsonl(examples, args.out)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    kept = sum(run.passed for run in runs)
    print(f"{kept}/{len(runs)} episodes kept, {len(examples)} examples -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
