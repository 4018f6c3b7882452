"""Recipes: how a shipped adapter is made, from data to hyper-parameters.

A :class:`Recipe` names the episodes to draw (dev task families only) and
the training settings, so ``agentkit tune --recipe bundled`` makes the same
adapter on any machine (given the same seed and the same build). The
``bundled`` recipe is a placeholder: its numbers are the defaults until the
real adapter for ``bundled:gemma3-270m`` is trained and its recipe fixed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agentkit.config import Settings
from agentkit.tune.episodes import EpisodeRun, episodes_from_families, examples_of, render_episodes
from agentkit.tune.examples import TrainingExample
from agentkit.tune.train import StepReport, TrainConfig, TrainResult, train


@dataclass(frozen=True)
class Recipe:
    """Episodes to render and how to train on them."""

    name: str
    model: str
    """The model spec the recipe trains (its adapter is shipped for it)."""
    episodes: int
    """Episodes drawn from the dev task families."""
    episode_seed: int
    train: TrainConfig = field(default_factory=TrainConfig)


RECIPES: dict[str, Recipe] = {
    "bundled": Recipe(
        name="bundled",
        model="bundled:gemma3-270m",
        episodes=1000,
        episode_seed=0,
        train=TrainConfig(
            rank=16,
            alpha=32.0,
            dropout=0.05,
            lr=2e-4,
            epochs=2,
            batch_size=8,
            seed=0,
            recipe="bundled",
        ),
    ),
}


def get_recipe(name: str) -> Recipe:
    from agentkit.tune.base import TuneError

    if name not in RECIPES:
        raise TuneError(f"no recipe {name!r}", hint=f"known: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def recipe_examples(
    recipe: Recipe, settings: Settings, on_episode: Callable[[EpisodeRun], None] | None = None
) -> list[TrainingExample]:
    """The recipe's episodes, rendered by the agent; only those that reached
    their outcome."""
    episodes = episodes_from_families("dev", recipe.episodes, recipe.episode_seed)
    return examples_of(render_episodes(episodes, settings, on_episode))


def run_recipe(
    recipe: Recipe,
    settings: Settings,
    gguf_path: Path,
    out: Path,
    *,
    resume: bool = False,
    on_episode: Callable[[EpisodeRun], None] | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Render the recipe's episodes, then train with its fixed settings."""
    examples = recipe_examples(recipe, settings, on_episode)
    return train(
        examples,
        gguf_path,
        out,
        recipe.train,
        cache_dir=settings.resolved_cache_dir(),
        resume=resume,
        on_step=on_step,
        say=say,
    )
