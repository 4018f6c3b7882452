"""Confinement of file tools to one workspace root.

Two layers, both required:

1. **Resolve and check** (:meth:`Workspace.resolve`): the requested path is
   resolved with every symlink followed (``os.path.realpath``) and must lie
   inside the root, compared component-wise (so ``/x/proj-evil`` is not inside
   ``/x/proj``). ``..``, absolute paths outside the root, ``~`` and symlinks
   that point out are refused here, with an error that says why.
2. **Open without following** (the ``_open_*`` methods): the checked path is
   then opened one component at a time from a descriptor of the root
   (``openat`` with ``O_NOFOLLOW``), so a symlink swapped in between the check
   and the use makes the open fail instead of escaping. Writes go to a temp
   file created with ``O_EXCL`` in the verified directory and are renamed into
   place relative to that directory's descriptor.

agentkit's own data (the data dir with the checkpoint database and the Chroma
store, a checkpointer file, the policy file and the project's agentkit.toml)
is never writable through these tools, even when it lies inside the root:
checked by path and, while walking, by device/inode of each directory.

Three more guards serve the approval policy (docs/security.md):

- **Path targets** (:meth:`Workspace.target`): what a path argument will
  really touch, relative to the root, with every symlink followed and ``..``
  collapsed, beside the path as written. Policy path rules match the real
  path and never auto-allow a call whose real path differs from the written
  one.
- **Protected paths** (:data:`PROTECTED_PATHS`): files that run code or steer
  agentkit (``.git/``, ``.envrc``, ``.vscode/``, shell rc files, ...). Tools
  may write them, but only after a human's yes: the policy never auto-allows
  such a write.
- **Pinned targets** (:func:`pinned_targets`): the real path a write was
  evaluated (and approved) for. If a symlink swapped in since then makes the
  path lead elsewhere, the write is refused instead of landing there.

Reads refuse regular files with more than one hard link (a hard link inside
the root may name a file outside it) unless ``read_hard_links`` is set.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.tools import ToolException

from agentkit.tools.globs import glob_match
from agentkit.tools.protected import (
    _PINNED,
    PROTECTED_PATHS,
    PathTarget,
    protected_patterns,
)

if TYPE_CHECKING:
    from agentkit.config import Settings

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class PathRefused(ToolException):
    """A path the tools may not touch; the message is shown to the model."""


@dataclass(frozen=True)
class Entry:
    """One directory entry as list_dir reports it."""

    name: str
    kind: str  # "file", "dir", "symlink", "other"
    size: int


# --- protected paths: written only after a human's yes -------------------------------


def protected_paths_from_settings(settings: Settings) -> list[Path]:
    """agentkit's own files: never writable by tools."""
    from agentkit.config import find_config_file

    paths = [settings.resolved_data_dir()]
    cp = settings.checkpointer
    if cp and "://" not in cp and cp != ":memory:":
        db = Path(cp).expanduser().resolve()
        paths += [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]
    if settings.policy_file is not None:
        paths.append(settings.policy_file.expanduser().resolve())
    try:
        config = find_config_file()
    except Exception:  # noqa: BLE001 - a broken config is reported elsewhere
        config = None
    if config is not None:
        paths.append(config.resolve())
    return paths


class Workspace:
    """The directory tools are confined to, plus paths they may never write."""

    def __init__(
        self,
        root: Path | str,
        protected: Iterable[Path] = (),
        *,
        protected_globs: Mapping[str, str] | None = None,
        read_hard_links: bool = False,
        trust_named_files: bool = False,
    ) -> None:
        """``protected``: agentkit's own data, never writable.
        ``protected_globs``: paths a write needs a human's yes for (default:
        :data:`PROTECTED_PATHS`). ``read_hard_links``: read regular files
        that have more than one hard link. ``trust_named_files``: contents of
        a file the user named are trusted content (default: every file's
        contents are untrusted)."""
        resolved = Path(root).expanduser().resolve()
        if not resolved.is_dir():
            raise ValueError(f"workspace {resolved} is not a directory")
        self.root = resolved
        self.protected = tuple(Path(os.path.realpath(p)) for p in protected)
        self.protected_globs = dict(PROTECTED_PATHS if protected_globs is None else protected_globs)
        self.read_hard_links = read_hard_links
        self.trust_named_files = trust_named_files
        self._protected_ids: set[tuple[int, int]] = set()
        for path in self.protected:
            try:
                st = os.stat(path)
            except OSError:
                continue
            self._protected_ids.add((st.st_dev, st.st_ino))

    @classmethod
    def from_settings(cls, settings: Settings, workspace: Path | None = None) -> Workspace:
        root = workspace if workspace is not None else settings.resolved_workspace()
        globs = protected_patterns(
            settings.protected_paths,
            build_files=settings.protect_build_files,
            removed=settings.unprotect_paths,
        )
        if settings.policy_file is not None:
            policy = Path(os.path.realpath(settings.policy_file.expanduser()))
            if policy.is_relative_to(Path(os.path.realpath(root))):
                globs.setdefault(
                    str(policy.relative_to(Path(os.path.realpath(root)))), "the policy file"
                )
        return cls(
            root,
            protected_paths_from_settings(settings),
            protected_globs=globs,
            read_hard_links=settings.read_hard_links,
            trust_named_files=settings.trust_named_files,
        )

    # --- checking -------------------------------------------------------------
    def resolve(self, path: str, *, for_write: bool = False) -> Path:
        """The real path of ``path`` (relative to the root, or absolute inside
        it), or :class:`PathRefused` saying why not."""
        raw = str(path).strip() or "."
        if "\x00" in raw:
            raise PathRefused("path contains a NUL byte")
        if raw.startswith("~"):
            raise PathRefused(f"'{raw}': home-directory paths are outside the workspace")
        candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
        lexical = Path(os.path.normpath(candidate))
        try:
            real = Path(os.path.realpath(candidate))
        except OSError as err:  # a link changed while it was being read
            raise PathRefused(
                f"'{raw}' changed while it was being resolved ({err.strerror})"
            ) from None
        if not lexical.is_relative_to(self.root):
            raise PathRefused(f"'{raw}' is outside the workspace ({self.root})")
        if not real.is_relative_to(self.root):
            raise PathRefused(
                f"'{raw}' resolves through a symlink to {real}, outside the workspace ({self.root})"
            )
        if self._left_a_link(real):
            raise PathRefused(f"'{raw}' goes through a symlink loop; refused")
        if for_write:
            self._refuse_protected(raw, real)
            self._check_pinned(raw, real)
        return real

    def _check_pinned(self, raw: str, real: Path) -> None:
        pinned = _PINNED.get()
        expected = pinned.get(raw) if pinned else None
        if expected is None:
            return
        # Pins are relative to the root (a thread's workspace may move between
        # the check and the run); an absolute pin is from an older checkpoint.
        now = str(real) if os.path.isabs(expected) else self.relative(real)
        if now != expected:
            was = (
                self.relative(Path(expected))
                if os.path.isabs(expected) and Path(expected).is_relative_to(self.root)
                else expected
            )
            raise PathRefused(
                f"'{raw}' changed after it was checked: it now leads to "
                f"'{self.relative(real)}', not '{was}' (a symlink was swapped in); not written"
            )

    # --- what a path argument touches -------------------------------------------
    def target(self, path: str, *, arg: str = "path", write: bool = False) -> PathTarget:
        """Where ``path`` leads, for the policy and the approval prompt. Never
        raises: a path the tools would refuse leads nowhere (None)."""
        raw = str(path).strip() or "."
        lexical = resolved = real_text = None
        if "\x00" not in raw and not raw.startswith("~"):
            candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
            normal = Path(os.path.normpath(candidate))
            if normal.is_relative_to(self.root):
                lexical = self.relative(normal)
            try:
                real = Path(os.path.realpath(candidate))
            except (OSError, ValueError):
                real = None
            if real is not None and real.is_relative_to(self.root) and not self._left_a_link(real):
                resolved, real_text = self.relative(real), str(real)
        why = None
        if write:
            why = next(
                (w for p in (lexical, resolved) if p is not None and (w := self.protection(p))),
                None,
            )
        return PathTarget(arg, raw, lexical, resolved, real_text, write, why)

    def _left_a_link(self, real: Path) -> bool:
        """Whether ``realpath`` gave up on a symlink (a loop): a component of
        its result is still a link."""
        current = self.root
        for part in real.relative_to(self.root).parts:
            current = current / part
            if os.path.islink(current):
                return True
        return False

    def protection(self, rel: str) -> str | None:
        """Why writing ``rel`` (relative to the root) needs a human's yes, or None."""
        if rel == ".":
            return None
        if self.is_protected(self.root / rel):
            return "agentkit's own data: checkpoints, memory, policy or config"
        folded = rel.casefold()
        for pattern, why in self.protected_globs.items():
            if glob_match(pattern.casefold(), folded):
                return f"{why} ({pattern})"
        return None

    def relative(self, real: Path) -> str:
        rel = real.relative_to(self.root)
        return str(rel) if rel.parts else "."

    def is_protected(self, real: Path) -> bool:
        return any(real == p or real.is_relative_to(p) for p in self.protected)

    def _refuse_protected(self, raw: str, real: Path) -> None:
        if self.is_protected(real):
            raise PathRefused(
                f"'{raw}' is agentkit's own data (checkpoints, memory, policy or config); "
                "tools may not write it"
            )

    def _check_fd_not_protected(self, fd: int, raw: str) -> None:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) in self._protected_ids:
            raise PathRefused(
                f"'{raw}' is agentkit's own data (checkpoints, memory, policy or config); "
                "tools may not write it"
            )

    # --- opening without following symlinks ------------------------------------
    def _parts(self, real: Path) -> tuple[str, ...]:
        return real.relative_to(self.root).parts

    def _open_dir_chain(
        self, parts: Iterable[str], raw: str, *, create: bool = False, for_write: bool = False
    ) -> int:
        """A descriptor for root/parts..., opened one component at a time with
        O_NOFOLLOW: a symlink or file swapped in since the check fails here."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if for_write:
                self._check_fd_not_protected(fd, raw)
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as err:
                    raise _translate(err, raw, part, fd) from None
                os.close(fd)
                fd = next_fd
                if for_write:
                    self._check_fd_not_protected(fd, raw)
            return fd
        except BaseException:
            os.close(fd)
            raise

    @contextmanager
    def open_dir(self, path: str) -> Iterator[tuple[int, Path]]:
        """A descriptor of a directory inside the root (and its real path)."""
        real = self.resolve(path)
        fd = self._open_dir_chain(self._parts(real), path)
        try:
            yield fd, real
        finally:
            os.close(fd)

    def _open_file(self, real: Path, raw: str) -> int:
        parts = self._parts(real)
        if not parts:
            raise PathRefused(f"'{raw}' is a directory")
        dir_fd = self._open_dir_chain(parts[:-1], raw)
        try:
            fd = os.open(parts[-1], _READ_FLAGS, dir_fd=dir_fd)
        except OSError as err:
            raise _translate(err, raw, parts[-1], dir_fd) from None
        finally:
            os.close(dir_fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise PathRefused(f"'{raw}' is {kind}")
        if st.st_nlink > 1 and not self.read_hard_links:
            os.close(fd)
            raise PathRefused(
                f"'{raw}' has {st.st_nlink} hard links, and a hard link may be a file outside "
                "the workspace; not read (the read_hard_links setting allows it)"
            )
        return fd

    def read_bytes(self, path: str, limit: int | None = None) -> tuple[bytes, int]:
        """Up to ``limit`` bytes of a regular file and its full size."""
        real = self.resolve(path)
        fd = self._open_file(real, path)
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read() if limit is None else handle.read(limit)
        return data, size

    def read_text(self, path: str, limit: int | None = None) -> tuple[str, int]:
        data, size = self.read_bytes(path, limit)
        if b"\x00" in data[:8192]:
            raise ToolException(f"'{path}' looks like a binary file ({size} bytes); not shown")
        return data.decode("utf-8", errors="replace"), size

    def exists(self, path: str) -> bool:
        try:
            real = self.resolve(path)
        except PathRefused:
            return False
        return real.exists()

    def list_dir(self, path: str) -> list[Entry]:
        entries: list[Entry] = []
        with self.open_dir(path) as (fd, _real):
            with os.scandir(fd) as it:
                for item in it:
                    st = item.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        kind = "symlink"
                    elif stat.S_ISDIR(st.st_mode):
                        kind = "dir"
                    elif stat.S_ISREG(st.st_mode):
                        kind = "file"
                    else:
                        kind = "other"
                    entries.append(Entry(item.name, kind, st.st_size))
        return sorted(entries, key=lambda e: (e.kind != "dir", e.name))

    def walk(self, path: str) -> Iterator[tuple[str, list[str], list[str], int]]:
        """``os.fwalk`` under ``path``: never follows symlinks, yields paths
        relative to the root and each directory's descriptor."""
        with self.open_dir(path) as (fd, real):
            base = self.relative(real)
            for dirpath, dirnames, filenames, dir_fd in os.fwalk(
                ".", dir_fd=fd, follow_symlinks=False
            ):
                rel = os.path.normpath(os.path.join(base, dirpath))
                yield rel, dirnames, filenames, dir_fd

    def read_in_dir(self, dir_fd: int, name: str, limit: int) -> bytes | None:
        """A regular file inside an already-open directory (None if it is a
        symlink, not a regular file or unreadable)."""
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or (st.st_nlink > 1 and not self.read_hard_links):
                return None
            return handle.read(limit)

    # --- writing ----------------------------------------------------------------
    def write_bytes(self, path: str, data: bytes) -> Path:
        """Atomically replace (or create) a file inside the root; parent
        directories are created. Returns its real path."""
        real = self.resolve(path, for_write=True)
        parts = self._parts(real)
        if not parts:
            raise PathRefused(f"'{path}' is the workspace root, not a file")
        dir_fd = self._open_dir_chain(parts[:-1], path, create=True, for_write=True)
        name = parts[-1]
        tmp = f".{name}.agentkit-{secrets.token_hex(4)}.tmp"
        try:
            mode = 0o644
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            if st is not None:
                if stat.S_ISDIR(st.st_mode):
                    raise PathRefused(f"'{path}' is a directory")
                if (st.st_dev, st.st_ino) in self._protected_ids:
                    raise PathRefused(f"'{path}' is agentkit's own data; tools may not write it")
                if stat.S_ISREG(st.st_mode):
                    mode = stat.S_IMODE(st.st_mode)
            fd = os.open(
                tmp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=dir_fd,
            )
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fchmod(handle.fileno(), mode)
                    os.fsync(handle.fileno())
                # rename relative to the verified directory: the final name is
                # replaced as a directory entry, never followed if it became a link
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=dir_fd)
                except OSError:
                    pass
                raise
        except OSError as err:
            raise _translate(err, path, name) from None
        finally:
            os.close(dir_fd)
        return real

    def write_text(self, path: str, text: str) -> Path:
        return self.write_bytes(path, text.encode("utf-8"))

    def rename(self, source: str, destination: str) -> Path:
        """Move the regular file ``source`` to ``destination`` (replaced if
        it exists; parents created), both opened from the root without
        following symlinks. Returns the destination's real path."""
        src = self._parts(self.resolve(source, for_write=True))
        dst = self._parts(self.resolve(destination, for_write=True))
        if not src or not dst:
            raise PathRefused("the workspace root cannot be moved or replaced")
        src_fd = self._open_dir_chain(src[:-1], source, for_write=True)
        try:
            st = os.stat(src[-1], dir_fd=src_fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise PathRefused(f"'{source}' is not a regular file; only files are moved")
            dst_fd = self._open_dir_chain(dst[:-1], destination, create=True, for_write=True)
            try:
                for fd, name, raw in ((src_fd, src[-1], source), (dst_fd, dst[-1], destination)):
                    if _entry_id(name, fd) in self._protected_ids:
                        raise PathRefused(f"'{raw}' is agentkit's own data; tools may not write it")
                try:
                    os.rename(src[-1], dst[-1], src_dir_fd=src_fd, dst_dir_fd=dst_fd)
                except OSError as err:
                    if err.errno != errno.EXDEV:
                        raise _translate(err, destination, dst[-1], dst_fd) from None
                    # Another file system inside the root: copy, then remove.
                    self.write_bytes(destination, self.read_bytes(source)[0])
                    os.unlink(src[-1], dir_fd=src_fd)
            finally:
                os.close(dst_fd)
        except FileNotFoundError:
            raise ToolException(f"'{source}' does not exist") from None
        finally:
            os.close(src_fd)
        return self.root.joinpath(*dst)


def _entry_id(name: str, dir_fd: int) -> tuple[int, int] | None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _is_symlink(name: str, dir_fd: int | None) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _translate(err: OSError, raw: str, part: str, dir_fd: int | None = None) -> ToolException:
    """An OSError as a message for the model."""
    if err.errno == errno.ELOOP or (err.errno == errno.ENOTDIR and _is_symlink(part, dir_fd)):
        return PathRefused(
            f"'{raw}': '{part}' is a symlink (it changed after the path was checked); refused"
        )
    if err.errno == errno.ENOTDIR:
        return PathRefused(f"'{raw}': '{part}' is not a directory")
    if err.errno == errno.ENOENT:
        return ToolException(f"'{raw}' does not exist")
    if err.errno == errno.EACCES:
        return ToolException(f"'{raw}': permission denied")
    if err.errno == errno.EISDIR:
        return ToolException(f"'{raw}' is a directory")
    return ToolException(f"'{raw}': {err.strerror or err}")
