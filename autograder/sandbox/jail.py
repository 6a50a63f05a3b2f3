"""Lock a freshly started child down before any student code runs (standard library only).

Layers, each applied only if the parent found it available (see ``capabilities.py``):

0. A control group (``cgroup.py``), joined first, so the whole tree the child starts is
   bounded in memory (swap included) and in processes, root grader or not.
1. Namespaces: user (mapping only the grader's own uid and gid, so even a root grader's
   child has no powers outside it: no device nodes, immutable files or raised hard
   limits), network (a down loopback only: no network at all), mount (private, with fresh
   tmpfs over /run, /dev/shm and the scratch directory's parent, so host Unix sockets and
   other children's files are out of sight), PID, UTS and IPC. The process forks once: the
   inner process is PID 1 of the new namespace and serves; when it dies the kernel kills
   everything it started (fork bombs, daemons, ``setsid`` escapes), and it dies with the
   outer process, the one the grader kills.
2. Dropping root to an unprivileged uid, when the parent checked that Python and numpy stay
   readable for that uid.
3. Resource limits, hard and soft alike so they cannot be raised again: CPU seconds,
   address space, file size (writes past it fail with EFBIG), open files, no core dumps,
   and inside a user namespace the number of processes (so forks cannot multiply the
   address-space cap without bound). With a mount namespace the scratch directory is a
   size-capped tmpfs (writes past it fail with ENOSPC).
4. Landlock: read-only access to the Python installation and system libraries, read-write
   access to the private scratch directory, nothing else on the file system (so no
   ``reference/``, no other student's files); no TCP (ABI >= 4); no signals or abstract
   sockets outside the sandbox (ABI >= 6).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from collections.abc import Iterable
from typing import Any

from dlgrade.sandbox import cgroup

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 0x1000, 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

# Landlock (linux/landlock.h); syscall numbers are the same on x86-64 and arm64.
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
RULE_PATH_BENEATH = 1
CREATE_RULESET_VERSION = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_MAKE_CHAR, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = (
    1 << 6, 1 << 9, 1 << 10, 1 << 11, 1 << 12)
FS_ALL_V1 = (1 << 13) - 1  # execute .. make_sym
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class JailError(OSError):
    """A layer the parent asked for could not be applied."""


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise JailError(errno, f"{what}: {os.strerror(errno)}")
    return result


# ---------------------------------------------------------------- namespaces


def unshare_namespaces(hide: Iterable[str] = (), keep: Iterable[str] = (),
                       writable: str | None = None, writable_bytes: int = 0) -> None:
    """New user, net, mount, PID, UTS and IPC namespaces; tmpfs over the ``hide``
    directories, with the ``keep`` directories (the scratch directory, a virtual environment
    under /tmp) bound back in place, read-only but for ``writable``. With
    ``writable_bytes``, ``writable`` becomes a tmpfs of that size holding a copy of what was
    there, so the child can fill at most that much (ENOSPC past it), not the host's disk."""
    uid, gid = os.getuid(), os.getgid()
    flags = (CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS
             | CLONE_NEWIPC)
    _check(_libc.unshare(flags), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    # Mount changes made inside must never propagate to the host.
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
    # Handles on the kept directories, taken before anything is hidden.
    kept = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep
            if os.path.isdir(path)}
    try:
        for directory in hide:
            if os.path.isdir(directory) and not os.path.islink(directory):
                _check(_libc.mount(b"tmpfs", directory.encode(), b"tmpfs",
                                   MS_NOSUID | MS_NODEV, b"size=1m,mode=755"),
                       f"tmpfs on {directory}")
        for path, fd in kept.items():
            if path == writable and writable_bytes > 0:
                _private_copy(path, fd, writable_bytes)
                continue
            if not os.path.isdir(path):  # a hidden directory covered it: bind it back
                os.makedirs(path, mode=0o755)
                _check(_libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None,
                                   MS_BIND | MS_REC, None), f"bind {path}")
                if path != writable:
                    _check(_libc.mount(None, path.encode(), None,
                                       MS_REMOUNT | MS_BIND | MS_RDONLY, None),
                           f"read-only {path}")
    finally:
        for fd in kept.values():
            os.close(fd)
    if writable and writable_bytes > 0:
        os.chdir(writable)  # the old working directory is under the new tmpfs


def _private_copy(path: str, source: int, size: int) -> None:
    """A tmpfs of ``size`` bytes at ``path`` (created if a hidden directory covered it),
    filled with a copy of the directory open (O_PATH) as ``source``."""
    original = os.open(f"/proc/self/fd/{source}", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                           f"size={size},mode=700".encode()), f"tmpfs on {path}")
        target = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            _copy_tree(original, target)
        finally:
            os.close(target)
    finally:
        os.close(original)


def _copy_tree(source: int, target: int) -> None:
    """Copy regular files and folders (our own small copy of a submission), never links."""
    for entry in os.scandir(source):
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(entry.name, 0o700, dir_fd=target)
            inner_source = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                   dir_fd=source)
            inner_target = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=target)
            try:
                _copy_tree(inner_source, inner_target)
            finally:
                os.close(inner_source)
                os.close(inner_target)
        elif entry.is_file(follow_symlinks=False):
            fin = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=source)
            fout = os.open(entry.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600,
                           dir_fd=target)
            try:
                while chunk := os.read(fin, 1 << 20):
                    os.write(fout, chunk)
            finally:
                os.close(fin)
                os.close(fout)


def become_pid_one(keep: Iterable[int]) -> None:
    """Fork; the outer process waits for the inner (PID 1 of the new namespace) and exits
    with its status; only the inner process keeps the channels ``keep`` open."""
    pid = os.fork()
    if pid == 0:
        # If the outer process is killed (the grader's timeout), PID 1 and with it the whole
        # namespace die too, even after a setsid that left the grader's process group.
        _check(_libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "pdeathsig")
        return
    for fd in keep:
        os.close(fd)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, as a shell


# ---------------------------------------------------------------- limits and identity


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``, and stay non-dumpable: another process of that uid (a classmate's
    child) can then not read this one's /proc entries (cwd, fd, environ, mem)."""
    signal_number = ctypes.c_int(0)
    _libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(signal_number), 0, 0, 0)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if signal_number.value:  # a change of uid clears it: still die with the parent
        _libc.prctl(PR_SET_PDEATHSIG, signal_number.value, 0, 0, 0)


def adopt_orphans() -> None:
    """Become the reaper of this process's orphaned descendants (PR_SET_CHILD_SUBREAPER):
    when a child's outer process dies before PID 1 of its namespace, that process is
    reparented here, to be reaped at once, not by an init that may never reap it."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def die_with_parent() -> None:
    """SIGKILL this process when its parent exits (the zygote, for a forked child)."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")


def set_limits(limits: dict[str, int]) -> None:
    """Hard limits (soft = hard) from ``{"cpu", "memory", "file", "files", "procs"}``; 0
    means none. ``procs`` (RLIMIT_NPROC, threads included) is only given inside a user
    namespace, where the kernel counts the namespace's processes alone (outside one it
    would count every process of the grading user); a root grader is exempt from it."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, which in (("cpu", resource.RLIMIT_CPU), ("memory", resource.RLIMIT_AS),
                       ("file", resource.RLIMIT_FSIZE), ("files", resource.RLIMIT_NOFILE),
                       ("procs", resource.RLIMIT_NPROC)):
        value = int(limits.get(key, 0))
        if value > 0:
            resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too much output: an error, not a death


# ---------------------------------------------------------------- Landlock


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    result = _libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    return max(int(result), 0)


def landlock(read: Iterable[str], write: Iterable[str], abi: int) -> None:
    """Allow reading ``read`` and reading/writing ``write``; deny every other file access,
    TCP (ABI >= 4) and signals/abstract sockets outside the sandbox (ABI >= 6)."""
    handled = FS_ALL_V1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    handled |= FS_IOCTL_DEV if abi >= 5 else 0
    # In the writable directory: files and folders only; no device nodes, FIFOs, sockets
    # or symbolic links, and no ioctl on devices.
    writable = handled & ~(FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_MAKE_FIFO | FS_MAKE_SOCK
                           | FS_MAKE_SYM | FS_IOCTL_DEV)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _check(_libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0),
                     "landlock_create_ruleset")
    try:
        read_only = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
        for paths, allowed in ((read, read_only), (write, writable)):
            for path in paths:
                _allow(ruleset, path, allowed)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: str, allowed: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist here needs no rule
    try:
        if not os.path.isdir(path):  # directory rights are invalid on a file
            allowed &= FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
        rule = _PathBeneath(allowed, fd)
        _check(_libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0),
               f"landlock_add_rule({path})")
    finally:
        os.close(fd)


# ---------------------------------------------------------------- all of it


def enter(config: dict[str, Any], *, keep: Iterable[int]) -> None:
    """Apply the layers in ``config`` (built by ``capabilities.jail_config``) in order."""
    keep = tuple(keep)
    if config.get("cgroup"):
        try:
            cgroup.join(config["cgroup"])
        except OSError as exc:
            raise JailError(exc.errno or 0, f"joining the cgroup: {exc}") from None
    if config.get("namespaces"):
        unshare_namespaces(config.get("hide", ()), config.get("keep", ()),
                           config.get("scratch"), int(config.get("scratch_bytes", 0)))
        become_pid_one(keep)
    elif config.get("drop_to"):  # without a user namespace, leave root the old way
        drop_privileges(*config["drop_to"])
    set_limits(config.get("limits", {}))
    if config.get("landlock"):
        landlock(config.get("read", ()), config.get("write", ()), int(config["landlock"]))
