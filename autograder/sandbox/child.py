"""The sandboxed child: loads a submission and calls its functions for the grader.

Run as ``python -I -m dlgrade.sandbox.child --config JSON`` (or forked by the zygote):
requests arrive on fd R and replies leave on fd W. Before any student code runs it sets its own
rlimits (hard and soft, so they cannot be raised again). It holds no reference code and
no expected values: it receives inputs, calls the student's functions and sends back
whatever they returned, as ``.npy`` frames. The grader (parent) decides what any of it is worth.

Requests (JSON header + frames):
    {"op": "import", "module": m}
    {"op": "call", "module": m, "fn": f, "args": [...], "kwargs": {...}, "keep": h | null}
        with ``keep``, the result must be ``(value, cache)``: the cache stays here under
        handle ``h`` (it is the student's business) and only ``value`` is sent back.
        An argument ``{"h": h}`` passes a kept cache.
    {"op": "perturb", "module": m, "fn": f, "args": [...], "kwargs": {...}, "arg": i,
     "points": [[flat index, delta], ...], "pick": j}
        the function at copies of the arguments where entry ``flat index`` of argument ``i``
        is moved by ``delta`` (the grader's finite differences; the grader does the maths).
        ``arg`` may be ``[i, key]``: entry ``key`` of the dict argument ``i``.
    {"op": "new" | "put" | "get" | "method", ...}: keep the result of a call (``new``) or
        the argument itself (``put``) under handle ``keep``; send back a kept object
        (``get``, its handle as the only argument); call method ``fn`` of a kept object
        (``method``, the handle first).
    {"op": "trajectory", "fn": rule, "args": [w, config, objective], "steps": n} and
    {"op": "graph", "fn": "Value", "args": [leaves], "program": [...]}: the programs of
        :mod:`dlgrade.sandbox.programs` run around the student's code.
    {"op": "batch", "steps": [requests]}: several requests in one round trip;
        each step succeeds or fails on its own.
    {"op": "forget"}: drop kept caches.
Replies: {"ok": true, "value": tree} or {"ok": false, "error": {...}}; a batch replies
{"ok": true, "results": [one of those per step]}.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import linecache
import os
import random
import sys
import traceback
import warnings

import numpy as np
import numpy.random  # noqa: F401 - lazy in numpy 2: 16 ms in every child otherwise
from dlgrade.sandbox import jail, programs, tracks, wire
from dlgrade.sandbox.files import relocate

MAX_REQUEST = 1 << 30
#: At most this many RuntimeWarnings go with one reply (for a course's ``no_warnings``).
MAX_WARNINGS = 5


class StudentError(Exception):
    """Something about the submission, reported to the grader as data."""

    def __init__(self, kind: str, message: str, *, where: str = "", trace: str = "") -> None:
        super().__init__(message)
        self.kind, self.message, self.where, self.trace = kind, message, where, trace


class Child:
    def __init__(self, modules: dict[str, str], directory: str,
                 track: tracks.Track | None = None, names: dict[str, str] | None = None
                 ) -> None:
        self.track = track or tracks.Track()
        self.paths = modules
        self.directory = os.path.realpath(directory)
        self.names = names or {}  # file name here -> the student's file name
        self.loaded: dict[str, object] = {}
        self.handles: dict[str, object] = {}
        self.shown: set[str] = set()  # warnings printed
        self.warned: list[str] = []  # this request's RuntimeWarnings, sent with its reply
        # realpath of each file name met in a traceback: a raising call otherwise cost ~3,000
        # stat calls (every frame, numpy's included, resolved against every student file).
        self._real: dict[str, str] = {}
        self._student_files: set[str] | None = None

    def _realpath(self, filename: str) -> str:
        real = self._real.get(filename)
        if real is None:
            real = self._real[filename] = os.path.realpath(filename)
        return real

    def _is_student_file(self, filename: str) -> bool:
        if self._student_files is None:
            self._student_files = {self._realpath(p) for p in self.paths.values()}
        real = self._realpath(filename)
        return real.startswith(self.directory + os.sep) or real in self._student_files

    # ------------------------------------------------------------ warnings

    def place(self, filename: str, lineno: int) -> str | None:
        """``hw.py, line 7`` (or ``hw.ipynb, code cell 3, line 2``) for a place in one of
        the student's files here, as the student knows it; None for any other file."""
        real = self._realpath(filename)
        if os.path.dirname(real) != self.directory:
            return None
        here = os.path.basename(real)
        text = f"{here}, line {lineno}"
        try:
            with open(real, encoding="utf-8", errors="replace") as f:
                code = f.read()
        except OSError:
            code = ""
        moved = relocate(text, here, code)
        return moved if moved != text else f"{self.names.get(here, here)}, line {lineno}"

    def warning_text(self, message: object, category: type[Warning], filename: str,
                     lineno: int, line: str | None = None, frame: object = None
                     ) -> tuple[str, str, int]:
        """(what to print, file, line) for a warning, at the student's own line: where it
        was raised if that is the student's code, else the innermost student frame from
        ``frame`` outwards (a warning raised inside numpy or dlgrade), else without a
        place. Never a path of the sandbox's."""
        where = self.place(filename, lineno)
        source = line
        if where is None:
            source = None
            while frame is not None:
                code = frame.f_code  # type: ignore[attr-defined]
                found = self.place(code.co_filename, frame.f_lineno)  # type: ignore[attr-defined]
                if found is not None:
                    where, filename, lineno = found, code.co_filename, frame.f_lineno  # type: ignore[attr-defined]
                    break
                frame = frame.f_back  # type: ignore[attr-defined]
        if where is not None and source is None:
            source = linecache.getline(filename, lineno)
        text = f"{category.__name__}: {message}"
        text = f"{where}: {text}" if where is not None else text
        if source and source.strip():
            text += f"\n    {source.strip()}"
        return text, filename, lineno

    def emit(self, text: str) -> None:
        """Print a warning's text once (as Python's default filter shows it once)."""
        if text in self.shown:
            return
        self.shown.add(text)
        try:
            sys.stderr.write(text + "\n")
        except (OSError, ValueError):
            pass

    def show_warning(self, message: object, category: type[Warning], filename: str,
                     lineno: int, file: object = None, line: str | None = None) -> None:
        """``warnings.showwarning`` in the child: see :meth:`warning_text`."""
        self.emit(self.warning_text(message, category, filename, lineno, line,
                                    sys._getframe(1))[0])

    def located(self, function: object) -> object:
        """``function``, placing each warning it raises while its stack is still there,
        printing it once, and noting each RuntimeWarning (numpy's overflow, invalid value,
        divide by zero) for the reply: a course can fail the stability check of code that
        overflows on the way to a right answer. Every occurrence is noted, however often
        the same line warned before (the filter is "always" during the call)."""
        child = self

        def hook(message: object, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
            child.emit(child.warning_text(message, category, filename, lineno, line,
                                          sys._getframe(1))[0])
            if issubclass(category, RuntimeWarning) and len(child.warned) < MAX_WARNINGS:
                child.warned.append(f"{category.__name__}: {message}"[:300])

        def run(*args: object, **kwargs: object) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = hook
                return function(*args, **kwargs)  # type: ignore[operator]

        return run

    def shadowing(self) -> str | None:
        """Why the student's folder cannot be loaded: a file or folder of theirs named like
        a library the track imports for them (``torch.py`` on the torch track), which their
        own ``import torch`` would silently skip; None if there is none. (The harness
        imports its libraries before the folder joins sys.path, so such a file never runs;
        numpy-track helpers named like numpy stay ignored, as test_adversarial pins.)"""
        for library in self.track.libraries:
            for entry in (f"{library}.py", library):
                if os.path.lexists(os.path.join(self.directory, entry)):
                    return f"your {entry} would shadow the {library} library: rename it"
        return None

    def module(self, name: str) -> object:
        if name in self.loaded:
            return self.loaded[name]
        shadow = self.shadowing()
        if shadow is not None:
            raise StudentError("import", shadow)
        path = self.paths.get(name)
        if path is None or not os.path.isfile(path):
            raise StudentError("missing", f"the submission has no {name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            sys.modules.pop(name, None)
            line = (exc.text or "").rstrip()
            where = f"{os.path.basename(exc.filename or path)}, line {exc.lineno}"
            raise StudentError(
                "syntax", f"SyntaxError: {exc.msg}", where=where, trace=line
            ) from None
        except BaseException as exc:  # noqa: BLE001 - anything at import time is the student's
            sys.modules.pop(name, None)
            raise self.student_error(exc, "import") from None
        self.loaded[name] = module
        return module

    def function(self, module_name: str, fn: str) -> object:
        target = getattr(self.module(module_name), fn, None)
        if not callable(target):
            raise StudentError("missing", f"{module_name}.py does not define {fn}()")
        return target

    def invoke(self, function: object, args: list, kwargs: dict) -> object:
        try:
            return self.track.call(self.located(function), args, kwargs)
        except tracks.AutogradUsed as exc:
            raise StudentError("autograd", f"autograd was used ({exc}); on the torch track "
                               "the backward pass is written by hand") from None
        except tracks.NotATensor as exc:
            raise StudentError("bad_return", str(exc)) from None
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends included
            raise self.student_error(exc, "exception") from None

    def student_error(self, exc: BaseException, kind: str) -> StudentError:
        if isinstance(exc, NotImplementedError):
            kind = "not_implemented"
        # Source lines are read for the student's frames only (format_list below).
        frames = [f for f in traceback.StackSummary.extract(
            traceback.walk_tb(exc.__traceback__), lookup_lines=False)
            if self._is_student_file(f.filename)]
        where = ""
        if frames:
            last = frames[-1]
            where = f"{os.path.basename(last.filename)}, line {last.lineno}, in {last.name}"
        for f in frames:
            f.filename = os.path.basename(f.filename)  # the student's file, not our paths
        trace = "".join(traceback.format_list(frames[-5:]))
        message = f"{type(exc).__name__}: {exc}"[:600]
        return StudentError(kind, message, where=where, trace=trace[:2000])

    # ------------------------------------------------------------ requests

    def argument(self, tree: object, arrays: list[np.ndarray], convert: bool = True) -> object:
        """A request argument: a kept object for ``{"h": h}``, else the decoded value
        (converted for the track unless ``convert`` is false)."""
        if isinstance(tree, dict) and set(tree) == {"h"}:
            if tree["h"] not in self.handles:
                raise StudentError("skipped", "not run, because the forward pass failed")
            return self.handles[tree["h"]]
        if isinstance(tree, dict) and set(tree) == {"list"}:
            return [self.argument(t, arrays, convert) for t in tree["list"]]
        if isinstance(tree, dict) and set(tree) == {"dict"} and isinstance(tree["dict"], dict):
            return {str(k): self.argument(v, arrays, convert) for k, v in tree["dict"].items()}
        if isinstance(tree, dict) and set(tree) == {"rng"}:
            return np.random.default_rng(int(tree["rng"]))
        value = wire.decode(tree, arrays)
        if isinstance(value, np.ndarray):
            value = value.copy()  # fresh and writeable: students may modify inputs in place
        return self.track.incoming(value) if convert else value

    def handle(self, header: dict, arrays: list[np.ndarray]) -> object:
        op = header.get("op")
        if op == "import":
            self.module(header["module"])
            return None
        if op == "forget":
            self.handles.clear()
            return None
        convert = op != "perturb"  # perturbation works on the numpy values, then converts
        args = [self.argument(a, arrays, convert) for a in header.get("args", [])]
        kwargs = {k: self.argument(v, arrays) for k, v in header.get("kwargs", {}).items()}
        if op in ("put", "get"):
            if op == "put":
                self.handles[str(header["keep"])] = args[0]
                return None
            return args[0]
        if op == "method":
            method = self.invoke(getattr, [args[0], header["fn"]], {})
            return self.invoke(method, args[1:], kwargs)
        function = self.function(header["module"], header["fn"])
        if op in ("call", "new"):
            result = self.invoke(function, args, kwargs)
            keep = header.get("keep")
            if keep is None:
                return result
            if op == "new":
                self.handles[keep] = result
                return None
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise StudentError(
                    "bad_return",
                    f"{header['fn']} must return a tuple (out, cache), "
                    f"got {describe(result)}",
                )
            self.handles[keep] = result[1]
            return result[0]
        if op == "perturb":
            where, pick = header["arg"], header.get("pick")
            position, key = (where[0], where[1]) if isinstance(where, list) else (where, None)
            # Each call gets its own copies (a student may write into an input); keyword
            # arguments need a deep copy only when they hold containers (batch norm's dict).
            nested = any(isinstance(v, (dict, list)) for v in kwargs.values())
            results = []
            for flat, delta in header["points"]:
                moved = list(args)
                if key is None:
                    moved[position] = np.array(args[position], dtype=np.float64, copy=True)
                    moved[position].flat[int(flat)] += float(delta)
                else:
                    moved[position] = {k: np.array(v, copy=True) if isinstance(v, np.ndarray)
                                       else v for k, v in args[position].items()}
                    moved[position][key] = np.array(args[position][key], dtype=np.float64)
                    moved[position][key].flat[int(flat)] += float(delta)
                copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                          for a in moved]
                result = self.invoke(function, self.track.incoming(copies),
                                     copy.deepcopy(kwargs) if nested else dict(kwargs))
                results.append(self.outgoing(self.picked(header["fn"], result, pick)))
            return stacked(results)
        try:
            if op == "trajectory":
                w, config, objective = args
                return programs.trajectory(function, header["fn"], w, config, objective,
                                           int(header["steps"]), self.invoke)
            if op == "graph":
                return programs.graph(function, args[0], header["program"], self.invoke)
        except programs.ProgramError as exc:
            raise StudentError("bad_return", str(exc)) from None
        raise StudentError("protocol", f"unknown request {op!r}")

    def outgoing(self, value: object) -> object:
        try:
            return self.track.outgoing(value)
        except tracks.AutogradUsed as exc:
            raise StudentError("autograd", f"autograd was used ({exc}); on the torch track "
                               "the backward pass is written by hand") from None

    @staticmethod
    def picked(fn: str, result: object, pick: int | None) -> object:
        if pick is None:
            return result
        if not isinstance(result, (tuple, list)) or len(result) <= pick:
            raise StudentError("bad_return", f"{fn} returned {describe(result)}")
        return result[pick]

    def reply(self, header: dict, arrays: list[np.ndarray], frames: list[bytes]) -> dict:
        """One request's reply; its arrays are appended to ``frames``."""
        mark = len(frames)
        self.warned = []  # only this request's warnings go with its reply
        try:
            value = self.outgoing(self.handle(header, arrays))
            reply = {"ok": True, "value": wire.encode(value, frames)}
            return {**reply, "warnings": self.warned} if self.warned else reply
        except StudentError as err:
            error = {"kind": err.kind, "message": err.message, "where": err.where,
                     "trace": err.trace}
        except wire.Unencodable as exc:
            error = {"kind": "bad_return", "message": f"returned a value the grader cannot "
                     f"read: {exc}", "where": "", "trace": ""}
        except Exception as exc:  # noqa: BLE001 - e.g. MemoryError collecting huge results
            error = {"kind": "bad_return", "message": "returned values the grader could not "
                     f"collect ({type(exc).__name__})", "where": "", "trace": ""}
        del frames[mark:]
        return {"ok": False, "error": error}

    def serve(self, request_fd: int, reply_fd: int) -> None:
        reader = wire.Reader(request_fd, max_bytes=MAX_REQUEST)
        while True:
            try:
                header, blobs = reader.read()
            except wire.Closed:
                return
            if header.get("op") == "exit":
                return
            arrays = [wire.decode_frame(b) for b in blobs]
            frames: list[bytes] = []
            if header.get("op") == "batch":
                self.handles.clear()  # caches live for one batch (one exercise)
                results = [self.reply(step, arrays, frames) for step in header["steps"]]
                reply = {"ok": True, "results": results}
            else:
                reply = self.reply(header, arrays, frames)
            wire.write_message(reply_fd, reply, frames)


def stacked(results: list[object]) -> object:
    """One array of all results when they are same-shaped real arrays or floats (one frame
    instead of one per result); the plain list otherwise, for the grader to judge one by
    one."""
    arrays = []
    for r in results:
        if not (type(r) is np.ndarray or isinstance(r, (float, np.floating))):
            return results
        arrays.append(np.asarray(r))
    if arrays and all(a.dtype.kind == "f" for a in arrays):
        if len({(a.shape, a.dtype) for a in arrays}) == 1:
            return np.stack(arrays)
    return results


def describe(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def run(config: dict, request_fd: int, reply_fd: int) -> None:
    """Enter the sandbox and serve requests until told to exit (never returns)."""
    code = 0
    try:
        jail.enter(config["jail"], keep=(request_fd, reply_fd))
        # Every library (torch on a cold start) is imported before the student's folder
        # joins sys.path: a student's torch.py can never be imported in its place.
        track = tracks.make(config.get("track"))
        np.random.seed(0)  # every child starts alike: reproducible grades
        random.seed(0)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.manual_seed(0)
            torch.set_num_threads(1)  # thread pools inherited through fork can deadlock
        track.ban((config.get("track") or {}).get("banned", ()), config["dir"])
        sys.path.insert(0, config["dir"])  # the student's own helper modules
        child = Child(config["modules"], config["dir"], track, config.get("names"))
        warnings.showwarning = child.show_warning
        child.serve(request_fd, reply_fd)
    except BaseException:  # noqa: BLE001 - a dying child must not run the zygote's code
        code = 70
    finally:
        sys.stdout.flush()
        os._exit(code)


def main() -> None:
    config = json.loads(sys.argv[sys.argv.index("--config") + 1])
    request_fd, reply_fd = config.pop("fds")
    run(config, request_fd, reply_fd)


if __name__ == "__main__":
    main()
