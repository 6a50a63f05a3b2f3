"""Deleting a child's scratch directory, whatever the child left in it (standard library only).

``shutil.rmtree`` recurses once per level (a 1000-deep tree raised RecursionError out of the
grading run) and gives up silently on a folder of mode 000. Here removal is iterative and
never follows a link: the entries of each sub-folder are moved up into the scratch
directory itself and the emptied folder removed, so at most two folders are open at once
and no path ever grows with the tree's depth. A folder the child made unreadable or
unwritable is given back to its owner first. What still cannot be removed is renamed away
(``leftover-*`` beside the scratch directories, hidden from every child like them) and
reported by one warning line per grading process; clean-up never raises.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
import sys
import threading
from pathlib import Path

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_REOPEN = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # through /proc/self/fd: a magic link
_HANDLE = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_warned = threading.Event()


def remove_scratch(path: Path) -> None:
    """Delete ``path`` and everything under it; never raises (see the module's docstring)."""
    try:
        remove_tree(path)
    except Exception as exc:  # noqa: BLE001 - clean-up must never fail a grading run
        _set_aside(Path(path), exc)


def remove_tree(path: Path) -> None:
    """Delete ``path`` and everything under it, iteratively; raises OSError on failure."""
    path = Path(path)
    try:
        parent = os.open(path.parent, _DIR)
    except FileNotFoundError:
        return
    try:
        try:
            info = os.stat(path.name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(path.name, dir_fd=parent)
            return
        root = _open_dir(parent, path.name)
        try:
            _empty(root)
        finally:
            os.close(root)
        os.rmdir(path.name, dir_fd=parent)
    finally:
        os.close(parent)


def _open_dir(parent: int, name: str) -> int:
    """Open the folder ``name`` (never a link), first making it readable, writable and
    searchable for its owner if the child took those rights away."""
    handle = os.open(name, _HANDLE, dir_fd=parent)  # needs no right on the folder itself
    try:
        if stat.S_IMODE(os.fstat(handle).st_mode) & 0o700 != 0o700:
            os.chmod(f"/proc/self/fd/{handle}", 0o700)  # the folder itself, not a name
        return os.open(f"/proc/self/fd/{handle}", _REOPEN)
    except FileNotFoundError:  # no /proc: by name, still refusing links
        os.chmod(name, 0o700, dir_fd=parent)
        return os.open(name, _DIR, dir_fd=parent)
    finally:
        os.close(handle)


def _empty(root: int) -> None:
    """Remove everything inside the open folder ``root``: files are unlinked, empty folders
    removed, and a folder's entries moved up into ``root`` before it is removed, so each
    entry moves once and the loop ends when ``root`` is empty."""
    fresh = itertools.count()
    while True:
        names = os.listdir(root)
        if not names:
            return
        failure: OSError | None = None
        progress = False
        for name in names:
            try:
                _remove_entry(root, name, fresh)
                progress = True
            except OSError as exc:
                failure = exc
        if not progress:
            raise failure or OSError(errno.ENOTEMPTY, "nothing could be removed")


def _remove_entry(root: int, name: str, fresh: itertools.count) -> None:
    info = os.stat(name, dir_fd=root, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=root)
        return
    try:
        os.rmdir(name, dir_fd=root)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EACCES, errno.EPERM):
            raise
    folder = _open_dir(root, name)
    try:
        for child in os.listdir(folder):
            _move_up(folder, child, root, fresh)
    finally:
        os.close(folder)
    os.rmdir(name, dir_fd=root)


def _move_up(folder: int, name: str, root: int, fresh: itertools.count) -> None:
    """Rename ``name`` from ``folder`` into ``root`` under a new name. Replacing an entry of
    the same name would only delete it early; a clash with a folder is retried."""
    for _ in range(100):
        try:
            os.rename(name, f".dlgrade-rm-{next(fresh)}", src_dir_fd=folder, dst_dir_fd=root)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR, errno.ENOTDIR):
                raise
    raise OSError(errno.EEXIST, f"no free name to move {name!r} to")


def _set_aside(path: Path, exc: BaseException) -> None:
    """Rename what could not be removed out of the way, and say so once per process."""
    target = path.with_name(f"leftover-{path.name}")
    try:
        os.rename(path, target)
    except OSError:
        target = path
    if not _warned.is_set():
        _warned.set()
        print(f"warning: could not delete a student's scratch folder ({type(exc).__name__}: "
              f"{exc}); left at {target} (delete leftover-* there by hand)".replace("\n", " "),
              file=sys.stderr, flush=True)
