"""Student kits: what a course gives its students, and ``dlgrade check`` with nothing else.

``dlgrade kit a1,a2 OUT`` writes

* the templates of those assignments (``OUT/activations.py`` ...), to fill in where they are;
* ``OUT/course.toml``, which makes OUT a course for ``dlgrade check``: a *kit*;
* ``OUT/dlgrade-kit/kit.json`` and ``arrays.npz``: the exercise metadata (ids, titles,
  functions, points, checks and their weights, hints, time limits, the accepted dtypes and
  their tolerances) and the public cases,
  frozen: inputs, hyper-parameters, the reference's outputs, the reference's forward at the
  gradient check's perturbed inputs, the outputs of every known mistake (for naming it) and,
  for program exercises, the scripts of calls, what is read from them and the properties'
  parameters.

A kit holds no reference or mutant source, no spec code and nothing of the hidden cases:
those are seeded by the course secret, which stays with the instructor. ``check`` in a kit
gives the same per-check scores, statuses and named mistakes on the public cases as
``check`` with the whole course, because it feeds the very same grader the very same data.

The data is read without pickle: JSON with tagged values, arrays in an ``.npz`` loaded with
``allow_pickle=False``; anything unexpected is a one-line
:class:`~dlgrade.courses.course.CourseError`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from dlgrade.courses import templates
from dlgrade.courses.course import COURSE_FILE, Course, CourseError, inside, read_config, validate
from dlgrade.courses.handouts import Handout
from dlgrade.grading.cases import Case
from dlgrade.outputs import atomic
from dlgrade.sandbox import wire
from dlgrade.sandbox.protocol import Handle, Rng, Step
from dlgrade.spec.exercise import DEFAULT_BANNED, Assignment, Exercise, Mutant
from dlgrade.spec.scenarios import Missing, Property, Scenario

FORMAT = 1
DATA_DIR = "dlgrade-kit"
DATA_FILE = "kit.json"
ARRAYS_FILE = "arrays.npz"
#: A kit's data is at most this big (a sane kit of ten assignments is a few MB).
MAX_BYTES = 256 << 20

_EXERCISE_FIELDS = ("id", "title", "module", "kind", "functions", "inputs", "wrt", "params",
                    "public_shapes", "hidden_shapes", "stable", "points", "time_limit",
                    "hint", "weights", "returns", "builds_on", "tolerance", "hints",
                    "no_warnings", "dtypes")
_CLASSES: dict[str, type] = {"Step": Step, "Case": Case, "Scenario": Scenario,
                             "Property": Property}


# ---------------------------------------------------------------- the codec


class _Writer:
    """Plain data as JSON, with arrays set aside for the .npz."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._seen: dict[int, str] = {}

    def array(self, value: np.ndarray) -> dict[str, str]:
        key = self._seen.get(id(value))
        if key is None:
            if value.dtype.kind not in "biufc":
                raise CourseError(f"cannot put an array of dtype {value.dtype} in a kit")
            key = self._seen[id(value)] = f"a{len(self.arrays)}"
            self.arrays[key] = value
        return {"$": "array", "k": key}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool) or type(value) is int:
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if isinstance(value, Handle):
            return {"$": "handle", "v": str(value)}
        if isinstance(value, Rng):
            return {"$": "rng", "v": int(value)}
        if isinstance(value, Missing):
            return {"$": "missing", "v": str(value)}
        if type(value) is str:
            return value
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, np.generic):
            return {"$": "scalar", "v": self.array(np.asarray(value))}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, tuple):
            return {"$": "tuple", "v": [self.encode(v) for v in value]}
        if isinstance(value, dict):
            return {"$": "dict", "v": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        name = type(value).__name__
        if _CLASSES.get(name) is type(value):
            fields = {f.name: self.encode(getattr(value, f.name))
                      for f in dataclasses.fields(value)}
            return {"$": name, "v": fields}
        raise CourseError(f"cannot put a {name} in a kit (only data: numbers, strings, "
                          "arrays, lists and dicts; a property must name a family)")


class _Reader:
    def __init__(self, arrays: Mapping[str, np.ndarray], where: str) -> None:
        self.arrays = arrays
        self.where = where

    def fail(self, why: str) -> CourseError:
        return CourseError(f"{self.where}: {why} (make the kit again with `dlgrade kit`)")

    def decode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or "$" not in value:
            raise self.fail("malformed data")
        tag, inner = value.get("$"), value.get("v")
        if tag == "array":
            key = value.get("k")
            if key not in self.arrays:
                raise self.fail(f"array {key!r} is missing")
            return self.arrays[key]
        if tag == "scalar":
            array = self.decode(inner)
            if not isinstance(array, np.ndarray) or array.shape != ():
                raise self.fail("malformed scalar")
            return array[()]
        if tag == "float" and inner in ("nan", "inf", "-inf"):
            return float(inner)
        if tag in ("handle", "missing") and isinstance(inner, str):
            return Handle(inner) if tag == "handle" else Missing(inner)
        if tag == "rng" and type(inner) is int:
            return Rng(inner)
        if tag == "tuple" and isinstance(inner, list):
            return tuple(self.decode(v) for v in inner)
        if tag == "dict" and isinstance(inner, list):
            if not all(isinstance(p, list) and len(p) == 2 for p in inner):
                raise self.fail("malformed dict")
            return {self.decode(k): self.decode(v) for k, v in inner}
        if tag in _CLASSES and isinstance(inner, dict):
            cls = _CLASSES[tag]
            names = {f.name for f in dataclasses.fields(cls)}
            if not set(inner) <= names:
                raise self.fail(f"unknown fields of {tag}")
            try:
                return cls(**{k: self.decode(v) for k, v in inner.items()})
            except (TypeError, ValueError) as exc:
                raise self.fail(f"bad {tag} ({exc})") from None
        raise self.fail(f"unknown value tag {tag!r}")


# ---------------------------------------------------------------- writing a kit


def _no_sampler(rng: Any, shape: Any, huge: Any) -> Any:
    raise CourseError("a kit holds frozen cases: it cannot draw new ones")


def _exercise_data(exercise: Exercise, writer: _Writer) -> dict[str, Any]:
    from dlgrade.core import gradcheck
    from dlgrade.grading import grader  # the course's own expectations, as grading makes them

    data = {name: writer.encode(getattr(exercise, name)) for name in _EXERCISE_FIELDS}
    data["dtypes"] = writer.encode(_dtype_names(exercise.dtypes))
    data["weights"] = writer.encode(dict(exercise.weights))
    data["returns"] = writer.encode(dict(exercise.returns))
    if exercise.kind == "program":
        data["program"] = [
            {"scenario": writer.encode(e.scenario), "reference": writer.encode(e.reference),
             "known": [[m.name, writer.encode(v)] for m, v in e.known],
             "reply_bytes": e.reply_bytes}
            for e in grader.program_expectations(exercise, False)]
        return data
    eps = gradcheck.settings_for(np.float64).eps
    cases = []
    for number, e in enumerate(grader.expectations(exercise, False)):
        probes = {} if e.case.huge else {
            name: writer.encode(grader.reference_probes(exercise, False, number, name, eps))
            for name in exercise.wrt}
        cases.append({"case": writer.encode(e.case), "reference": writer.encode(e.reference),
                      "known": [[m.name, writer.encode(v)] for m, v in e.known],
                      "probes": probes, "eps": eps})
    data["cases"] = cases
    return data


def _dtype_names(dtypes: Any) -> dict[str, tuple[float, float]] | None:
    """A dtypes declaration as plain data (names for keys, numpy types included)."""
    if dtypes is None:
        return None
    return {np.dtype(k).name: (float(v[0]), float(v[1])) for k, v in dtypes.items()}


def kit_data(course: Course, assignments: Sequence[Assignment]) -> tuple[dict, dict]:
    """The kit's JSON document and its arrays, for ``assignments`` of ``course``."""
    writer = _Writer()
    doc: dict[str, Any] = {"format": FORMAT, "course": course.name, "assignments": []}
    for a in assignments:
        doc["assignments"].append({
            "id": a.id, "title": a.title, "libraries": list(a.libraries),
            "banned_libraries": list(a.banned_libraries),
            "support": list(a.support),
            "tracks": list(a.tracks),
            # The course's accepted dtypes travel with the cases: check judges as grade does.
            "dtypes": writer.encode(_dtype_names(a.dtypes)),
            "exercises": [_exercise_data(e, writer) for e in a.exercises],
            "mutants": [{"exercise": m.exercise, "name": m.name, "mistake": m.mistake,
                         "fails": list(m.fails), "hint": m.hint} for m in a.mutants],
            "handouts": {m: templates.current_handout(course, m).to_json() for m in a.modules},
        })
    return doc, writer.arrays


def _digest(doc: dict, arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode())
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}{array.dtype.str}{array.shape}".encode() + array.tobytes())
    return digest.hexdigest()


def _write_data(folder: Path, course: Course, doc: dict, arrays: dict) -> list[Path]:
    """Write the data and course.toml into ``folder``; return what changed (an unchanged
    kit is left as it is, so a re-run says "up to date")."""
    doc = {**doc, "digest": _digest(doc, arrays)}
    data = folder / DATA_DIR
    toml = (
        "# A dlgrade student kit: run `dlgrade check` here. It holds the public cases\n"
        "# and the templates, never a solution or a hidden case.\n"
        f"[course]\nname = {json.dumps(course.name)}\nkit = {json.dumps(DATA_DIR)}\n")
    written = []
    try:
        old = json.loads((data / DATA_FILE).read_text()).get("digest")
    except (OSError, ValueError, AttributeError):
        old = None
    if old != doc["digest"] or not (data / ARRAYS_FILE).is_file():
        data.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic.write_bytes(data / ARRAYS_FILE, buffer.getvalue())
        atomic.write_text(data / DATA_FILE, json.dumps(doc, separators=(",", ":")))
        written += [data / DATA_FILE, data / ARRAYS_FILE]
    target = folder / COURSE_FILE
    if not target.is_file() or target.read_text() != toml:
        atomic.write_text(target, toml)
        written.append(target)
    return written


def write_data(course: Course, assignments: Sequence[Assignment], folder: Path) -> list[Path]:
    """Only the kit's data and ``course.toml``, into an existing ``folder`` (beside an
    nbgrader source notebook, say); return the files written."""
    if course.kit is not None:
        raise CourseError(f"{course.root} is already a kit: make kits from the course itself")
    doc, arrays = kit_data(course, assignments)
    written = _write_data(Path(folder), course, doc, arrays)
    for relative, content in course.support_files(list(assignments)).items():
        target = Path(folder).joinpath(*Path(relative).parts)
        if not target.is_file() or target.read_bytes() != content:
            atomic.write_bytes(target, content)
            written.append(target)
    return written


def write(course: Course, assignments: Sequence[Assignment], out: Path) -> list[Path]:
    """Write the kit of ``assignments`` into the new (or empty) folder ``out``; return the
    files written. Nothing is left behind when it fails."""
    if course.kit is not None:
        raise CourseError(f"{course.root} is already a kit: make kits from the course itself")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CourseError(f"{out} exists and is not an empty folder: choose a new one (a kit "
                          "is written whole, never over a student's files)")
    doc, arrays = kit_data(course, assignments)
    files = templates.plan(course, assignments, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for f in files:
            (staging / f.target.name).write_text(f.text)
        for relative, content in course.support_files(list(assignments)).items():
            atomic.write_bytes(staging.joinpath(*Path(relative).parts), content)
        _write_data(staging, course, doc, arrays)
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp made it private
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


# ---------------------------------------------------------------- reading a kit


@dataclass
class KitData:
    """A kit's frozen public cases, keyed by exercise id. An exercise's are decoded (and
    its arrays read) the first time they are asked for: ``dlgrade check -a a1`` in a kit of
    the whole course reads only a1's (0.5 s of the whole course's arrays before)."""

    path: Path
    cases: dict[str, tuple[Any, ...]]  # id -> Expectation tuple
    probes: dict[str, dict[tuple[int, str, float], np.ndarray]]
    programs: dict[str, tuple[Any, ...]]  # id -> ProgramExpectation tuple
    # module -> the handout its templates were made from (dlgrade.courses.handouts)
    handouts: dict[str, Handout] = dataclasses.field(default_factory=dict)
    #: id -> what fills in that exercise's cases, probes or programs (then dropped)
    pending: dict[str, Callable[[], None]] = dataclasses.field(default_factory=dict)
    filling: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def _no_hidden(self, hidden: bool) -> None:
        if hidden:
            raise CourseError("a student kit has only the public cases: hidden cases are "
                              "graded by the instructor with the course itself")

    def _ready(self, exercise: Exercise) -> None:
        with self.filling:  # a second thread waits for the first one's fill
            fill = self.pending.get(exercise.id)
            if fill is not None:
                fill()  # a damaged kit says so again at every ask
                del self.pending[exercise.id]

    def expectations(self, exercise: Exercise, hidden: bool) -> tuple[Any, ...]:
        self._no_hidden(hidden)
        self._ready(exercise)
        return self.cases[exercise.id]

    def reference_probes(self, exercise: Exercise, hidden: bool, case_number: int,
                         name: str, eps: float) -> np.ndarray:
        self._no_hidden(hidden)
        self._ready(exercise)
        try:
            return self.probes[exercise.id][(case_number, name, eps)]
        except KeyError:
            raise CourseError(f"{self.path}: no probes for {exercise.id} case "
                              f"{case_number + 1}") from None

    def program_expectations(self, exercise: Exercise, hidden: bool) -> tuple[Any, ...]:
        self._no_hidden(hidden)
        self._ready(exercise)
        return self.programs[exercise.id]


class _Arrays(Mapping[str, np.ndarray]):
    """The ``.npz``'s arrays by name, each read when first asked for (read-only), parsed by
    the sandbox's one ``.npy`` reader (:func:`dlgrade.sandbox.wire.decode_frame`: no pickle,
    plain dtypes only; twice as fast as ``np.load``'s on a kit's hundreds of small arrays)."""

    def __init__(self, path: Path, where: str) -> None:
        self.where = where
        try:
            too_big = path.stat().st_size > MAX_BYTES
            if not too_big:
                self.zip = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise self.fail(exc) from None
        if too_big:
            raise CourseError(f"{where}: larger than {MAX_BYTES >> 20} MB")
        self.names = {name.removesuffix(".npy"): name for name in self.zip.namelist()}
        self.read: dict[str, np.ndarray] = {}

    def fail(self, exc: BaseException) -> CourseError:
        return CourseError(f"{self.where}: cannot read the kit's arrays ({exc})")

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.read:
            try:
                self.read[key] = wire.decode_frame(self.zip.read(self.names[key]))
            except (OSError, zipfile.BadZipFile, ValueError, EOFError, wire.WireError) as exc:
                raise self.fail(exc) from None
        return self.read[key]

    def __contains__(self, key: object) -> bool:
        return key in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _malformed(where: str, exc: Exception) -> CourseError:
    return CourseError(f"{where}: malformed kit ({type(exc).__name__}: {exc})")


def _fill(kit: KitData, exercise: Exercise, e: dict[str, Any],
          mistakes: dict[tuple[str, str], Mutant], reader: _Reader, where: str) -> None:
    """Decode one exercise's frozen cases (``e``: its entry in kit.json) into ``kit``."""
    from dlgrade.grading.grader import Expectation, ProgramExpectation

    def known(pairs: list) -> tuple:
        return tuple((mistakes[(exercise.id, name)], reader.decode(values))
                     for name, values in pairs)

    try:
        if exercise.kind == "program":
            kit.programs[exercise.id] = tuple(
                ProgramExpectation(reader.decode(p["scenario"]), reader.decode(p["reference"]),
                                   known(p["known"]), int(p["reply_bytes"]))
                for p in e["program"])
            return
        found, probes = [], {}
        for number, c in enumerate(e["cases"]):
            found.append(Expectation(reader.decode(c["case"]), reader.decode(c["reference"]),
                                     known(c["known"])))
            for name, value in c["probes"].items():
                probes[(number, name, float(c["eps"]))] = reader.decode(value)
        kit.cases[exercise.id] = tuple(found)
        kit.probes[exercise.id] = probes
    except CourseError:
        raise  # already says what is wrong (a CourseError is a ValueError too)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(where, exc) from None


_loaded: dict[Path, Course] = {}


def load(root: Path) -> Course:
    """The kit at ``root`` as a course whose expectations are its frozen public cases
    (loaded once per process)."""
    root = Path(root).resolve()
    if root not in _loaded:
        table = read_config(root)
        if "kit" not in table:
            raise CourseError(f"{root} is a course, not a student kit")
        _loaded[root] = _load(root, inside(root, table["kit"], "kit"), table)
    return _loaded[root]


def _load(root: Path, data_dir: Path, table: dict[str, Any]) -> Course:
    where = str(data_dir / DATA_FILE)
    try:
        if (data_dir / DATA_FILE).stat().st_size > MAX_BYTES:
            raise CourseError(f"{where}: larger than {MAX_BYTES >> 20} MB")
        doc = json.loads((data_dir / DATA_FILE).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CourseError(f"{where}: cannot read the kit ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CourseError(f"{where}: not a kit of format {FORMAT} (make it again with this "
                          "dlgrade's `dlgrade kit`)")
    reader = _Reader(_Arrays(data_dir / ARRAYS_FILE, str(data_dir / ARRAYS_FILE)), where)
    kit = KitData(data_dir / DATA_FILE, {}, {}, {})
    assignments: dict[str, Assignment] = {}
    try:
        for a in doc["assignments"]:
            for module, handout in a.get("handouts", {}).items():  # (older kits: none)
                kit.handouts[module] = Handout.from_json(handout)
            mutants = tuple(Mutant(m["exercise"], m["name"], m["mistake"], tuple(m["fails"]), {},
                                   hint=str(m.get("hint", ""))) for m in a["mutants"])
            by_name = {(m.exercise, m.name): m for m in mutants}
            exercises = []
            for e in a["exercises"]:
                # A field a kit made before it existed keeps its default.
                fields = {name: reader.decode(e[name]) for name in _EXERCISE_FIELDS if name in e}
                exercise = Exercise(sample=_no_sampler, scenarios=(
                    _no_sampler if fields["kind"] == "program" else None), **fields)
                exercises.append(exercise)
                kit.pending[exercise.id] = functools.partial(
                    _fill, kit, exercise, e, by_name, reader, where)
            assignments[a["id"]] = Assignment(
                a["id"], a["title"], tuple(exercises), mutants,
                libraries=tuple(a["libraries"]), tracks=tuple(a["tracks"]),
                banned_libraries=tuple(a.get("banned_libraries", DEFAULT_BANNED)),
                support=tuple(a.get("support", ())), dtypes=reader.decode(a.get("dtypes")))
    except CourseError:
        raise  # already says what is wrong (a CourseError is a ValueError too)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(where, exc) from None
    course = Course(root=root, name=str(table.get("name", doc.get("course", root.name))),
                    assignments=assignments, templates_dir=root, kit=kit,
                    support_dir=inside(root, table.get("support", "."), "support"))
    validate(course)
    return course
