"""Model specs → GGUF files: bad paths and damaged files give one-line
ModelErrors, in Python and on the command line (no traceback), and the
bundled model's metadata reads correctly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agentkit.config import load_settings
from agentkit.errors import AgentkitError, ModelError
from agentkit.models.resolve import read_gguf_info, resolve_model_path

AGENTKIT = Path(sys.executable).with_name("agentkit")
MB = 1024 * 1024


# --- bad model files, each with the words its error must contain ----------------------


def _missing(tmp: Path, real: Path) -> Path:
    return tmp / "missing.gguf"


def _directory(tmp: Path, real: Path) -> Path:
    path = tmp / "models.gguf"
    path.mkdir()
    return path


def _not_gguf(tmp: Path, real: Path) -> Path:
    path = tmp / "weights.gguf"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 10)
    return path


def _empty(tmp: Path, real: Path) -> Path:
    path = tmp / "empty.gguf"
    path.write_bytes(b"")
    return path


def _copy_head(real: Path, path: Path, nbytes: int) -> Path:
    with real.open("rb") as src, path.open("wb") as dst:
        dst.write(src.read(nbytes))
    return path


def _truncated_in_data(tmp: Path, real: Path) -> Path:
    # The header (vocabulary included) ends near 6.5 MB: cut inside the tensors.
    return _copy_head(real, tmp / "truncated.gguf", 24 * MB)


def _truncated_in_header(tmp: Path, real: Path) -> Path:
    return _copy_head(real, tmp / "head.gguf", 3 * MB)


def _garbage_header(tmp: Path, real: Path) -> Path:
    path = tmp / "garbage.gguf"
    path.write_bytes(b"GGUF" + bytes((i * 7919 + 13) % 251 for i in range(64 * 1024)))
    return path


def _bad_version_header(tmp: Path, real: Path) -> Path:
    # Plausible magic and version, absurd counts.
    path = tmp / "counts.gguf"
    path.write_bytes(
        b"GGUF" + (3).to_bytes(4, "little") + (2**62).to_bytes(8, "little") * 2 + b"\x01" * 256
    )
    return path


BadFile = Callable[[Path, Path], Path]
BAD_FILES: list[tuple[str, BadFile, str]] = [
    ("missing", _missing, "does not exist"),
    ("directory", _directory, "is a directory"),
    ("not-gguf", _not_gguf, "is not a GGUF file"),
    ("empty-file", _empty, "is not a GGUF file"),
    ("truncated-copy", _truncated_in_data, "is truncated"),
    ("truncated-header", _truncated_in_header, "GGUF header"),
    ("garbage-header", _garbage_header, "GGUF header"),
    ("absurd-counts", _bad_version_header, "GGUF header"),
]
IDS = [name for name, _, _ in BAD_FILES]


@pytest.fixture
def make_bad(tmp_path: Path, bundled_model_path: Path) -> Callable[[BadFile], Path]:
    return lambda build: build(tmp_path, bundled_model_path)


@pytest.mark.parametrize(("build", "words"), [(b, w) for _, b, w in BAD_FILES], ids=IDS)
def test_resolve_model_path_gives_one_line_model_error(
    make_bad: Callable[[BadFile], Path], build: BadFile, words: str
) -> None:
    path = make_bad(build)
    with pytest.raises(ModelError) as info:
        resolve_model_path(str(path), path.parent)
    message = str(info.value)
    assert words in message
    assert str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(("build", "words"), [(b, w) for _, b, w in BAD_FILES], ids=IDS)
def test_from_settings_gives_model_error(
    make_bad: Callable[[BadFile], Path], build: BadFile, words: str
) -> None:
    from agentkit.models import ChatLlama

    path = make_bad(build)
    with pytest.raises(ModelError, match=words):
        ChatLlama.from_settings(load_settings(model=str(path)))


def test_truncated_message_gives_the_sizes(
    make_bad: Callable[[BadFile], Path], bundled_model_path: Path
) -> None:
    path = make_bad(_truncated_in_data)
    with pytest.raises(ModelError) as info:
        resolve_model_path(str(path), path.parent)
    full = bundled_model_path.stat().st_size
    assert f"({24 * MB} of {full} bytes)" in str(info.value)


def test_unknown_bundled_model_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        resolve_model_path("bundled:gpt-5", tmp_path)
    assert "unknown bundled model 'gpt-5'" in str(info.value)
    assert "bundled:gemma3-270m" in str(info.value)


def test_model_error_is_a_user_error() -> None:
    assert issubclass(ModelError, AgentkitError)
    assert ModelError("x").exit_code == 2


def test_header_only_gguf_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "hollow.gguf"
    # version 3, 0 tensors, 0 metadata keys: structurally a GGUF, not a model.
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + bytes(16))
    with pytest.raises(ModelError):
        resolve_model_path(str(path), tmp_path)


# --- the real file --------------------------------------------------------------------


def test_bundled_model_resolves_and_reads(bundled_model_path: Path, tmp_path: Path) -> None:
    settings = load_settings()
    assert (
        resolve_model_path("bundled:gemma3-270m", settings.resolved_cache_dir())
        == bundled_model_path
    )
    info = read_gguf_info(bundled_model_path)
    assert info.architecture == "gemma3"
    assert info.file_type == "Q4_K_M"
    assert info.context_length == 32768
    assert info.chat_template is None  # why agentkit picks the Gemma format itself
    assert 250e6 < info.n_params < 300e6
    assert info.file_size == info.expected_size == bundled_model_path.stat().st_size
    assert info.metadata["gemma3.attention.sliding_window"] == 512


def test_gpu_layers_on_a_cpu_only_build_is_a_model_error() -> None:
    import llama_cpp

    from agentkit.models import ChatLlama
    from agentkit.models.chat import check_gpu_offload

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama-cpp-python build has GPU offload")
    check_gpu_offload(0)  # CPU only: fine
    with pytest.raises(ModelError, match="no GPU offload") as info:
        check_gpu_offload(-1)
    assert "\n" not in str(info.value)
    with pytest.raises(ModelError, match="n_gpu_layers=4"):
        ChatLlama.from_settings(load_settings(n_gpu_layers=4))


# --- the command line -----------------------------------------------------------------


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENTKIT_")}
    # A wide terminal keeps rich from wrapping the error inside its table.
    environ.update(
        COLUMNS="300", XDG_CONFIG_HOME=str(cwd / "xdg"), AGENTKIT_DATA_DIR=str(cwd / "data"), **env
    )
    return subprocess.run(
        [str(AGENTKIT), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
    )


CLI_CASES = ["missing", "directory", "not-gguf", "truncated-copy", "garbage-header"]


@pytest.mark.parametrize(
    ("build", "words"), [(b, w) for n, b, w in BAD_FILES if n in CLI_CASES], ids=CLI_CASES
)
def test_doctor_reports_a_bad_model_without_traceback(
    make_bad: Callable[[BadFile], Path], tmp_path: Path, build: BadFile, words: str
) -> None:
    path = make_bad(build)
    result = _cli(["doctor", "--model", str(path)], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    error_lines = [line for line in output.splitlines() if words in line]
    assert len(error_lines) == 1, output
    assert str(path) in error_lines[0]


def test_run_with_a_bad_model_prints_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("not a model\n")
    result = _cli(["run", "say hi"], cwd=tmp_path, AGENTKIT_MODEL=str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path} is not a GGUF file")


def test_doctor_on_the_bundled_model_is_ok(tmp_path: Path) -> None:
    result = _cli(["doctor"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gemma3" in result.stdout
    assert "Q4_K_M" in result.stdout
    assert "gemma (chat_format=auto)" in result.stdout
    assert "built for" in result.stdout and "AVX2" in result.stdout
    assert "cold-identical prefix reuse" in result.stdout and "holds" in result.stdout


def test_doctor_says_when_cold_identical_reuse_does_not_hold(tmp_path: Path) -> None:
    result = _cli(["doctor"], cwd=tmp_path, GGML_CPU_TILED_MM="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not guaranteed" in result.stdout and "tiled matmul is on" in result.stdout


def test_doctor_shows_whether_model_servers_answer(tmp_path: Path) -> None:
    result = _cli(["doctor"], cwd=tmp_path, AGENTKIT_MODEL_URLS='["http://127.0.0.1:9/v1"]')
    assert result.returncode == 1
    assert "model servers" in result.stdout and "http://127.0.0.1:9/v1" in result.stdout
    assert "error: model server http://127.0.0.1:9/v1: " in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
