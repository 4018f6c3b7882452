"""Settings precedence (defaults < TOML < AGENTKIT_* env < arguments) and
`agentkit config show`, including the one-line errors for bad config files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.config import load_settings, setting_sources
from agentkit.errors import ConfigError

AGENTKIT = Path(sys.executable).with_name("agentkit")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No AGENTKIT_* variables, no ./agentkit.toml, no user config file."""
    for name in list(os.environ):
        if name.startswith("AGENTKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_config(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.model == "bundled:gemma3-270m"
    assert settings.n_ctx == 8192
    assert all(source == "default" for source, _ in setting_sources().values())


def test_file_then_env_then_arguments(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _toml(clean_env / "custom.toml", "temperature = 0.5\nn_ctx = 4096\ntop_k = 7\n")
    monkeypatch.setenv("AGENTKIT_CONFIG", str(config))
    monkeypatch.setenv("AGENTKIT_N_CTX", "2048")
    monkeypatch.setenv("AGENTKIT_SEED", "42")

    settings = load_settings()
    assert settings.temperature == 0.5  # file
    assert settings.top_k == 7  # file
    assert settings.n_ctx == 2048  # env beats file
    assert settings.seed == 42  # env beats default
    assert settings.max_tokens == 512  # default

    settings = load_settings(top_k=3, n_ctx=1024, seed=None)
    assert settings.top_k == 3  # argument beats file
    assert settings.n_ctx == 1024  # argument beats env
    assert settings.seed == 42  # None means "not given"

    sources = setting_sources(top_k=3)
    assert sources["temperature"] == ("file", str(config))
    assert sources["n_ctx"] == ("env", "AGENTKIT_N_CTX")
    assert sources["top_k"] == ("argument", "")
    assert sources["max_tokens"] == ("default", "")


def test_project_file_is_found_in_the_working_directory(clean_env: Path) -> None:
    _toml(clean_env / "agentkit.toml", "max_steps = 3\n")
    assert load_settings().max_steps == 3
    # An explicit file wins over the project file.
    other = _toml(clean_env / "other.toml", "max_steps = 5\n")
    assert load_settings(config_file=other).max_steps == 5


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bogus_key = 1\n", "unknown setting 'bogus_key'"),
        ("n_ctx = \n", "invalid TOML"),
        ('n_ctx = "lots"\n', "invalid setting 'n_ctx'"),
        ("n_ctx = 100\n", "invalid setting 'n_ctx'"),
        ("temperature = 9.0\n", "invalid setting 'temperature'"),
    ],
)
def test_bad_config_file_is_a_one_line_config_error(clean_env: Path, text: str, words: str) -> None:
    config = _toml(clean_env / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=config)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_env_value_and_missing_config_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_N_GPU_LAYERS", "lots")
    with pytest.raises(ConfigError, match="invalid setting 'n_gpu_layers'"):
        load_settings()
    monkeypatch.delenv("AGENTKIT_N_GPU_LAYERS")
    monkeypatch.setenv("AGENTKIT_CONFIG", str(clean_env / "nowhere.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


# --- the command line -----------------------------------------------------------------


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENTKIT_")}
    environ.update(COLUMNS="300", XDG_CONFIG_HOME=str(cwd / "xdg"), **env)
    return subprocess.run(
        [str(AGENTKIT), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
    )


def test_config_show_reports_values_and_sources(tmp_path: Path) -> None:
    config = _toml(tmp_path / "custom.toml", "temperature = 0.5\nn_ctx = 4096\n")
    result = _cli(
        ["config", "show", "--json"], tmp_path, AGENTKIT_CONFIG=str(config), AGENTKIT_N_CTX="2048"
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["temperature"] == {"value": 0.5, "source": "file", "detail": str(config)}
    assert shown["n_ctx"] == {"value": 2048, "source": "env", "detail": "AGENTKIT_N_CTX"}
    assert shown["model"] == {"value": "bundled:gemma3-270m", "source": "default", "detail": ""}

    # --config names the file explicitly and wins over AGENTKIT_CONFIG.
    other = _toml(tmp_path / "other.toml", "temperature = 0.9\n")
    result = _cli(
        ["config", "show", "--json", "--config", str(other)], tmp_path, AGENTKIT_CONFIG=str(config)
    )
    assert json.loads(result.stdout)["temperature"]["value"] == 0.9

    # The table view names the file and each source.
    result = _cli(["config", "show"], tmp_path, AGENTKIT_CONFIG=str(config))
    assert result.returncode == 0, result.stderr
    assert f"config file: {config}" in result.stdout
    assert f"file ({config})" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus_key = 1\n", "error: unknown setting 'bogus_key' in {path}"),
        ("n_ctx = \n", "error: {path}:1:9: invalid TOML"),
    ],
    ids=["unknown-key", "invalid-toml"],
)
def test_config_show_bad_file_prints_one_error_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    config = _toml(tmp_path / "bad.toml", text)
    result = _cli(["config", "show"], tmp_path, AGENTKIT_CONFIG=str(config))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected.format(path=config))
