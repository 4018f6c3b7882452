"""Recipes: how a shipped adapter is made, from data to hyper-parameters.

A :class:`Recipe` names the episodes to draw (dev task families only), how
their prompts are rendered and the training settings, so ``agentkit tune
--recipe bundled`` makes the same adapter on any machine (given the same
seed and the same build). ``bundled`` made the adapter shipped for
``bundled:gemma3-270m`` (agentkit/models/adapters/PROVENANCE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentkit.config import Settings
from agentkit.models.prompt import ToolPromptStyle
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
    vary_wording: bool = True
    """Vary each wording's frame (agentkit.tune.episodes.vary_wording)."""
    tool_prompt: ToolPromptStyle = "compact"
    steering: Literal["tuned", "on"] = "tuned"
    """The steering the prompts are rendered with (and the adapter records,
    so a run that loads it renders the same way)."""

    def render_settings(self, settings: Settings) -> Settings:
        """``settings`` as the recipe renders its prompts (greedy, its tool
        prompt and steering)."""
        steering = settings.steering.model_copy(update={"mode": self.steering})
        return settings.model_copy(
            update={"temperature": 0.0, "tool_prompt": self.tool_prompt, "steering": steering}
        )


RECIPES: dict[str, Recipe] = {
    "bundled": Recipe(
        name="bundled",
        model="bundled:gemma3-270m",
        episodes=1800,
        episode_seed=7,
        train=TrainConfig(
            rank=16,
            alpha=32.0,
            dropout=0.05,
            lr=2e-4,
            epochs=1,
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
    episodes = episodes_from_families(
        "dev", recipe.episodes, recipe.episode_seed, vary=recipe.vary_wording
    )
    return examples_of(render_episodes(episodes, recipe.render_settings(settings), on_episode))


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
