"""What isolation this machine allows, detected once per run, and the jail built from it.

Every layer of ``jail.py`` is optional: a probe process tries each one (namespaces,
Landlock, dropping root to ``nobody`` while Python stays readable) and the children get only
what worked. ``dlgrade doctor`` prints the result. The baseline that always applies: a
separate process with no reference code, parent-side comparison, rlimits, a process-group
kill on timeout, a private scratch directory and a minimal environment.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import json
import os
import secrets
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from dlgrade.sandbox import cgroup, cleanup

#: The engine's package: never readable from a sandboxed child (a child has loaded all it
#: needs of it before any student code runs). A course lives outside site-packages, in a
#: folder the child cannot read either (see :func:`jail_config`).
PRIVATE_PACKAGES = frozenset({"dlgrade"})
NOBODY = (65534, 65534)
#: Defaults for a child's whole sandbox (overridden by ``limits["scratch"]`` and
#: ``limits["procs"]``): bytes its scratch directory may hold (a tmpfs, with a mount
#: namespace; tmpfs pages are memory, so this also bounds what it can pin there) and
#: processes plus threads (RLIMIT_NPROC, with a user namespace).
SCRATCH_BYTES = 512 << 20
PROCESSES = 128
#: Memory of a child's whole process tree, swap included (a cgroup, where one can be made).
TREE_MEMORY_BYTES = 4 << 30
#: Files and folders a scratch directory may hold where it is not a tmpfs (no namespaces):
#: the grader watches it and stops the child past this count or ``SCRATCH_BYTES``.
SCRATCH_FILES = 10_000
#: Layers to leave off, comma-separated ("namespaces,landlock,cgroup"): simulates a machine
#: without them (Gradescope's fallback); it can only take layers away.
NO_LAYERS = "DLGRADE_NO_LAYERS"

_PROBE = r"""
import json, os, sys
from dlgrade.sandbox import jail
found = {"namespaces": False, "namespace_error": "", "landlock": jail.landlock_abi(),
         "drop_ok": False, "root": os.geteuid() == 0}

def trial(action):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            action()
            os.write(w, b"ok")
        except BaseException as exc:
            os.write(w, repr(exc).encode()[:300])
        os._exit(0)
    os.close(w)
    answer = os.read(r, 400).decode()
    os.waitpid(pid, 0)
    return answer

def namespaces():
    jail.unshare_namespaces()
    jail.become_pid_one(())
    if os.getpid() != 1:
        raise OSError("not PID 1 after unshare")

answer = trial(namespaces)
found["namespaces"] = answer == "ok"
found["namespace_error"] = "" if answer == "ok" else answer

def readable_as_nobody():
    import numpy
    jail.drop_privileges(65534, 65534)
    for path in (os.__file__, numpy.__file__, json.__file__):
        open(path, "rb").close()
    os.listdir(os.path.dirname(os.__file__))

if found["root"]:
    found["drop_ok"] = trial(readable_as_nobody) == "ok"
print(json.dumps(found))
"""


@dataclass(frozen=True)
class Capabilities:
    namespaces: bool
    namespace_error: str
    landlock: int
    root: bool
    drop_ok: bool
    cgroup: str = ""  # "cgroup v1 (...)" / "cgroup v2 (...)" where groups can be made

    def report(self) -> list[tuple[str, bool, str]]:
        """(layer, in use, explanation) for ``dlgrade doctor``."""
        return [
            ("separate process, parent-side checks, .npy frames", True, "always"),
            ("rlimits (CPU, memory, file size, open files, no core)", True, "always"),
            ("process-group kill on timeout, private scratch dir", True, "always"),
            ("user/net/mount/pid/uts/ipc namespaces", self.namespaces,
             "no network, no host powers even for a root grader, host sockets and other "
             "children out of sight, and the whole process tree dies with the child"
             if self.namespaces else f"unavailable ({self.namespace_error or 'unshare failed'})"),
            ("Landlock", self.landlock > 0,
             f"ABI {self.landlock}: files outside the Python installation and the scratch "
             f"directory are unreadable{'; no TCP' if self.landlock >= 4 else ''}"
             f"{'; no signals outside the sandbox' if self.landlock >= 6 else ''}"
             if self.landlock else "unavailable in this kernel"),
            ("cgroup (memory and processes of the whole tree)", bool(self.cgroup),
             f"{self.cgroup}: each child's tree holds at most {TREE_MEMORY_BYTES >> 30} GiB "
             f"(swap included) and {PROCESSES} processes"
             if self.cgroup else "no writable cgroup: each process is bounded by its "
             "rlimits alone" + ("" if self.namespaces else ", and their number is not")),
            ("scratch size", True,
             f"a {SCRATCH_BYTES >> 20} MiB tmpfs" if self.namespaces else
             f"watched by the grader: the child is stopped past {SCRATCH_BYTES >> 20} MiB "
             f"or {SCRATCH_FILES} files"),
            ("drop root to nobody (when namespaces are unavailable)",
             self.root and self.drop_ok and not self.namespaces,
             "not running as root" if not self.root else
             "not needed: root's powers stay inside the user namespace" if self.namespaces else
             "children run as uid 65534" if self.drop_ok else
             "skipped: the Python installation is not readable by nobody"),
        ]


@cache
def detect() -> Capabilities:
    """Probe this machine once (about 0.1 s); every failure means "layer unavailable".
    ``DLGRADE_NO_LAYERS`` turns layers off (see :data:`NO_LAYERS`)."""
    found = _probe()
    off = {w.strip() for w in os.environ.get(NO_LAYERS, "").split(",") if w.strip()}
    layout = None if "cgroup" in off else cgroup.layout()
    found = replace(found, cgroup=layout.describe() if layout is not None else "")
    if "namespaces" in off:
        found = replace(found, namespaces=False, namespace_error=f"turned off by {NO_LAYERS}")
    if "landlock" in off:
        found = replace(found, landlock=0)
    return found


_early_probe: subprocess.Popen[str] | None = None


def start_probe() -> None:
    """Start the probe now, without waiting for it (:func:`detect` collects it): a command
    that will need a child starts it before its own imports, so the two overlap."""
    global _early_probe
    if _early_probe is None and detect.cache_info().currsize == 0:
        try:
            _early_probe = _probe_process()
        except OSError:
            _early_probe = None


def _probe_process() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-I", "-c", _PROBE], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=minimal_environment(),
                            stdin=subprocess.DEVNULL)


def _probe() -> Capabilities:
    global _early_probe
    process, _early_probe = _early_probe, None
    try:
        process = process or _probe_process()
        try:
            stdout, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        found: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        return Capabilities(False, f"probe failed: {exc}", 0, os.geteuid() == 0, False)
    return Capabilities(**{k: found[k] for k in asdict(Capabilities(False, "", 0, False,
                                                                      False)) if k in found})


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (asked in a separate process, so that the grader
    itself never imports torch or initialises CUDA)."""
    probe = "import torch; print(torch.cuda.is_available())"
    try:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip().endswith("True")


def minimal_environment(home: str = "/nonexistent") -> dict[str, str]:
    """The only environment a child (or the zygote) gets: no tokens, proxies or PYTHON*."""
    return {
        "PATH": os.defpath,
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def readable_paths() -> list[str]:
    """What a child may read: the Python installation and system libraries, minus our own
    packages (listed entry by entry, since Landlock rules only ever allow)."""
    # No /proc: other processes' environ, maps and cmdline stay out of reach.
    paths = {"/usr", "/lib", "/lib64", "/bin", "/etc", "/dev/null", "/dev/zero",
             "/dev/urandom", "/dev/random", sys.executable, os.path.realpath(sys.executable)}
    scheme = sysconfig.get_paths()
    packages = {os.path.realpath(scheme[k]) for k in ("purelib", "platlib")}
    packages |= {os.path.realpath(p) for p in sys.path if p.endswith("-packages")}
    for directory in {os.path.realpath(scheme[k]) for k in ("stdlib", "platstdlib")}:
        paths |= _entries(directory, skip=packages)
    for directory in packages:
        paths |= _entries(directory, skip=set())
    return sorted(paths)


def _entries(directory: str, skip: set[str]) -> set[str]:
    """``directory`` itself when nothing in it is to be hidden (one Landlock rule), else
    each of its entries but the hidden ones. ``directory`` is a real path, so only a link
    among its entries needs resolving to be compared with ``skip`` (resolving all of them
    was 30 ms of every check: a site-packages holds hundreds)."""
    try:
        with os.scandir(directory) as found:
            entries = [(e.name, os.path.realpath(e.path) if e.is_symlink() else e.path)
                       for e in found]
    except OSError:
        return set()
    hidden = {name for name, real in entries if name in PRIVATE_PACKAGES or real in skip}
    if not hidden:
        return {directory}
    return {os.path.join(directory, name) for name, _ in entries if name not in hidden}


def jail_config(scratch: Path, limits: dict[str, int],
                private: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``jail.enter`` configuration for a child whose private directory is ``scratch``;
    ``private`` folders (a course) are hidden like the temporary directory."""
    caps = detect()
    limits = dict(limits)
    scratch_bytes = int(limits.pop("scratch", SCRATCH_BYTES))
    procs = int(limits.pop("procs", PROCESSES))
    if caps.namespaces:  # counted per user namespace: the sandbox's processes alone
        limits["procs"] = procs
    hide = _hidden_directories(Path(scratch))
    for path in dict.fromkeys(os.path.realpath(p) for p in private):
        if path != "/" and not any(path == h or path.startswith(h + os.sep) for h in hide):
            hide.append(path)  # (inside a hidden folder it is hidden already)
    return {
        "namespaces": caps.namespaces,
        "hide": hide,
        "keep": _kept_directories(Path(scratch), hide),
        "scratch": os.path.realpath(scratch),
        "scratch_bytes": scratch_bytes if caps.namespaces else 0,
        "drop_to": list(NOBODY) if caps.root and caps.drop_ok else None,
        "limits": limits,
        "landlock": caps.landlock,
        "read": _cached_readable() if caps.landlock else [],
        "write": [str(scratch), "/dev/null"],
    }


def scratch_base() -> Path:
    """The folder holding every grading process's run folder (hidden from all children)."""
    base = Path(tempfile.gettempdir()) / f"dlgrade-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base


# ---------------------------------------------------------------- one folder per run

_LOCK = ".lock"
_run_guard = threading.Lock()
_runs: dict[int, tuple[Path, int, cgroup.Pool]] = {}  # pid -> (folder, lock fd, groups)


def run_folder() -> Path:
    """This grading process's folder, ``scratch_base()/run-<pid>-<random>``: every child's
    scratch directory and every task's copy of a submission lives in it. A held ``flock``
    on its ``.lock`` says the process is alive; on first use the folders (and cgroups) of
    dead runs beside it are removed, and at exit this one is."""
    return _run()[0]


def cgroup_pool() -> cgroup.Pool:
    """The cgroups of this grading process's children (made on demand, reused once empty)."""
    return _run()[2]


def _run() -> tuple[Path, int, cgroup.Pool]:
    pid = os.getpid()
    with _run_guard:
        found = _runs.get(pid)
        if found is not None:
            return found
        base = scratch_base()
        name = f"run-{pid}-{secrets.token_hex(6)}"
        # Made under a name the sweep ignores, locked, then renamed: a run folder is never
        # seen unlocked by a sweep while its owner lives.
        fresh = Path(tempfile.mkdtemp(prefix=".new-", dir=base))
        lock = os.open(fresh / _LOCK, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        folder = base / name
        os.rename(fresh, folder)
        pool = cgroup.Pool(f"dlgrade-{name}", TREE_MEMORY_BYTES, PROCESSES)
        _runs[pid] = found = (folder, lock, pool)
        atexit.register(_end_run, pid)
    sweep(base, keep=name)
    return found


def end_run() -> None:
    """End this process's run now (its cgroups and its folder go), as its exit handler
    would: for a process that leaves by ``os._exit`` (a forked grading worker)."""
    _end_run(os.getpid())


def _new_guard() -> None:
    global _run_guard
    _run_guard = threading.Lock()  # another thread may have held it at a fork


os.register_at_fork(after_in_child=_new_guard)


def _end_run(pid: int) -> None:
    """At exit of the process that made it: its cgroups and its folder go."""
    found = _runs.pop(pid, None) if os.getpid() == pid else None
    if found is None:
        return
    folder, lock, pool = found
    pool.remove_all()
    cleanup.remove_scratch(folder)
    os.close(lock)


def sweep(base: Path, keep: str = "") -> list[str]:
    """Remove the run folders under ``base`` whose owner is dead (their lock is free), with
    the processes and cgroups of those runs; returns the names removed. Never raises."""
    removed = []
    try:
        entries = [e for e in os.scandir(base) if e.is_dir(follow_symlinks=False)]
    except OSError:
        entries = []
    for entry in entries:
        if entry.name == keep:
            continue
        if entry.name.startswith(".new-"):  # a run that died before it was named
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > 3600:
                    cleanup.remove_scratch(Path(entry.path))
            except OSError:
                pass
            continue
        if not entry.name.startswith("run-"):
            continue
        try:
            lock = os.open(os.path.join(entry.path, _LOCK),
                           os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            lock = -1  # no lock file: half removed already
        except OSError:
            continue
        try:
            if lock >= 0:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                        continue  # its owner is alive
                    raise
            cgroup.sweep(f"dlgrade-{entry.name}")  # its processes first, then its files
            cleanup.remove_scratch(Path(entry.path))
            removed.append(entry.name)
        except OSError:
            continue
        finally:
            if lock >= 0:
                os.close(lock)
    for name in cgroup.stale_runs():  # groups whose folder is gone and whose owner died
        run = name[len("dlgrade-"):]
        if run != keep and not (base / run).exists() and not _alive(run):
            cgroup.sweep(name)
    return removed


def _alive(run: str) -> bool:
    try:
        os.kill(int(run.split("-")[1]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def open_to(uid: int, gid: int, scratch: Path) -> None:
    """Let ``uid`` (the unprivileged user a root grader's child becomes without namespaces)
    into ``scratch`` and nothing beside it: the folders above it may be crossed, never
    listed (0711), and the scratch directory and what the grader put in it become the
    child's own. The tasks' copies of submissions stay root's alone (0700)."""
    for folder in (scratch.parent.parent, scratch.parent):
        os.chmod(folder, 0o711)
    for directory, folders, files in os.walk(scratch):
        os.chown(directory, uid, gid)
        for name in folders + files:
            if name != ".output":  # written through the grader's descriptor only
                os.chown(os.path.join(directory, name), uid, gid, follow_symlinks=False)


def _hidden_directories(scratch: Path) -> list[str]:
    """Directories a child gets an empty tmpfs over: the temporary directory (sockets and
    files of other programs), host sockets and shared memory, and every grading process's
    run folder (the other children's scratch directories, the tasks' copies of
    submissions)."""
    tmp = os.path.realpath(tempfile.gettempdir())
    parent = Path(scratch).parent
    base = parent.parent if parent.name.startswith("run-") else parent
    hide = ["/run", "/var/run", "/dev/shm", os.path.realpath(base)]
    return ([tmp] if tmp != "/" else []) + hide


def _kept_directories(scratch: Path, hidden: list[str]) -> list[str]:
    """What is bound back inside the hidden directories: the child's own scratch directory
    and the parts of the Python installation that live there (a virtual environment in
    /tmp, say), outermost first so that one bind covers what is inside it."""
    wanted = {os.path.realpath(p) for p in (
        sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
        *sysconfig.get_paths().values(), *(p for p in sys.path if p.endswith("-packages")))}
    inside = {p for p in wanted
              if any(p == h or p.startswith(h + os.sep) for h in hidden)}
    outermost = sorted(p for p in inside
                       if not any(p.startswith(q + os.sep) for q in inside))
    return [os.path.realpath(scratch), *outermost]


@cache
def _cached_readable() -> list[str]:
    return readable_paths()


def protect_grader() -> None:
    """Make the grading process non-dumpable: a same-uid child can then no longer read its
    memory through /proc/<pid>/mem (a measured attack on this kind of kernel)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
