"""``agentkit tune``: LoRA fine-tuning of the chat model on what the agent
should have done, exported as a GGUF adapter llama.cpp loads.

- :mod:`.examples`: the training example (prompt, completion) and its JSONL.
- :mod:`.replay`: :class:`GoldReplayModel`, a ``ChatLlama`` that renders each
  act step's prompt as the real model gets it and answers with a gold call.
- :mod:`.episodes`: agent episodes (task, workspace, gold calls, outcome)
  played through the real agent graph.
- :mod:`.threads`: a user's threads, each act step rebuilt from its
  checkpoint, labelled by what the human approved or corrected.
- :mod:`.train`, :mod:`.base`, :mod:`.precision`: training with
  transformers + peft on the GGUF's float weights; :mod:`.recipe`: how a
  shipped adapter is made. The adapter file format and its loading are in
  :mod:`agentkit.models.adapter`.

See docs/tune.md. torch, transformers and peft come with the ``tune``
extra; nothing here imports them until training starts.
"""

from agentkit.tune.episodes import Episode, EpisodeRun, play_episode, render_episode
from agentkit.tune.examples import TrainingExample, read_jsonl, write_jsonl
from agentkit.tune.replay import GoldCall, GoldReplayModel, GoldStep

__all__ = [
    "Episode",
    "EpisodeRun",
    "GoldCall",
    "GoldReplayModel",
    "GoldStep",
    "TrainingExample",
    "play_episode",
    "read_jsonl",
    "render_episode",
    "write_jsonl",
]
