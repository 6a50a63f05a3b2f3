"""Courses: a folder with a ``course.toml``, found by path and loaded under a private name.

A course holds its assignments' specs (a Python package folder, one subpackage per
assignment defining ``ASSIGNMENT``), its reference solutions (one module per student file),
its generated templates and its secret (the seed of the hidden cases, made on first use and
never copied into a kit). A *kit* is the students' side of a course (see
:mod:`dlgrade.courses.kit`): its ``course.toml`` names a data folder of public cases
instead of specs and references.

``course.toml``::

    [course]
    name = "Deep-learning fundamentals"
    assignments = ["a1", "a2"]          # course order
    specs = "assignments"               # folder of assignment packages
    reference = "reference"             # folder of reference modules
    templates = "student_templates"     # where `dlgrade build-templates` writes
    secret = ".dlgrade/secret"          # made on first use; keep it out of version control
    version = "2026.1"                  # stamped into templates, kits and notebooks

    [feedback]                          # optional: how much hidden cases say
    hidden = "full"                     # none | mistake | full (dlgrade.policy.feedback)

Which course a command uses: ``--course PATH``, else ``$DLGRADE_COURSE``, else the nearest
``course.toml`` in the current directory or above it (:func:`find`); a course or a kit is
opened by :func:`dlgrade.api.open_course`. Spec and reference modules are
imported as ``_dlgrade_course_<hash>.specs.<id>`` and ``..reference.<module>``: nothing a
student's file is called can shadow them, and nothing of the course is on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dlgrade.courses.handouts import Handout
from dlgrade.policy.feedback import Feedback, FeedbackError, read_feedback
from dlgrade.spec.exercise import (
    Assignment,
    Exercise,
    Mutant,
    SpecError,
    Variant,
    accepted_dtypes,
    apply_patch,
    check_dtypes,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

COURSE_FILE = "course.toml"
ENVIRONMENT = "DLGRADE_COURSE"
_KEYS = {"name", "assignments", "specs", "reference", "templates", "secret", "kit", "support",
         "version"}
_TABLES = {"course", "feedback"}
#: What support files may hold, in all: they travel to every child.
SUPPORT_LIMIT = (64, 4 << 20)


class CourseError(ValueError):
    """No course where one was looked for, or a ``course.toml`` that is wrong (one line)."""


class UnknownName(LookupError):
    """An assignment or exercise id that the course does not have."""


@dataclass(eq=False)
class Course:
    """A loaded course (or kit): its assignments and where its files are."""

    root: Path
    name: str
    assignments: dict[str, Assignment]
    templates_dir: Path
    reference_dir: Path | None = None  # None in a kit
    secret_path: Path | None = None  # None in a kit
    support_dir: Path | None = None  # course-provided helpers (Assignment.support)
    kit: Any = None  # the kit's frozen public cases (dlgrade.courses.kit.KitData) when a kit
    package: str = ""  # the private import name of its modules
    version: str = ""  # course.toml's version: stamped into its handouts
    feedback: Feedback = field(default_factory=Feedback)  # what hidden cases say
    _secret: bytes | None = field(default=None, repr=False)
    _support: dict[tuple[str, ...], dict[str, bytes]] = field(default_factory=dict, repr=False)
    # module -> its current handout (dlgrade.courses.templates.current_handout)
    handouts: dict[str, Handout | None] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ lookups

    def assignment(self, assignment_id: str) -> Assignment:
        if assignment_id not in self.assignments:
            raise UnknownName(f"unknown assignment {assignment_id!r}; known: "
                              f"{', '.join(self.assignments) or 'none'}")
        return self.assignments[assignment_id]

    def exercises(self) -> dict[str, Exercise]:
        """Every exercise by id, in course order."""
        return {e.id: e for a in self.assignments.values() for e in a.exercises}

    def exercise(self, exercise_id: str) -> Exercise:
        known = self.exercises()
        if exercise_id not in known:
            raise UnknownName(f"unknown exercise {exercise_id!r} (see `dlgrade list`)")
        return known[exercise_id]

    def accepted_dtypes(self, exercise: Exercise) -> Mapping[str, tuple[float, float]]:
        """The float dtypes answers to ``exercise`` may have, with their ``(rtol, atol)``:
        the exercise's own, else its assignment's, else float64 and float32."""
        return accepted_dtypes(exercise, self.assignments.get(exercise.assignment))

    def mutants(self, exercise_id: str | None = None) -> tuple[Mutant, ...]:
        every = tuple(m for a in self.assignments.values() for m in a.mutants)
        return every if exercise_id is None else tuple(m for m in every
                                                       if m.exercise == exercise_id)

    def variants(self) -> tuple[Variant, ...]:
        """Every accepted variant (correct alternatives that must score full marks)."""
        return tuple(v for a in self.assignments.values() for v in a.variants)

    def resolve(self, selector: str) -> list[Assignment]:
        """Assignments named by a CLI selector: ``a1``, ``a1,a2`` or ``all``."""
        if selector.strip() == "all":
            return list(self.assignments.values())
        names = [s.strip() for s in selector.split(",") if s.strip()]
        if not names:
            raise UnknownName("no assignment given")
        return [self.assignment(n) for n in dict.fromkeys(names)]

    # ------------------------------------------------------------ modules and files

    def reference_module(self, module: str) -> ModuleType:
        """The reference solution of student module ``module`` (``activations``)."""
        if self.reference_dir is None:
            raise CourseError(f"{self.root} is a student kit: it holds no reference solutions")
        path = self.reference_dir / f"{module}.py"
        if not path.is_file():
            raise CourseError(f"{path} is missing (the reference of {module}.py)")
        # A reference (and a known mistake patched from it) imports the course's support
        # files as a student's code does (``from im2col import im2col``), at import or at
        # call time: the folder joins the grader's path, after everything else so that it
        # shadows nothing installed. Trusted course code only; students get theirs copied
        # beside their files in the sandbox.
        folder = self.support_dir
        if folder is not None and folder.is_dir() and str(folder) not in sys.path:
            sys.path.append(str(folder))
        return importlib.import_module(f"{self.package}.reference.{module}")

    def reference_path(self, module: str) -> Path:
        if self.reference_dir is None:
            raise CourseError(f"{self.root} is a student kit: it holds no reference solutions")
        return self.reference_dir / f"{module}.py"

    def sources(self, assignment: Assignment) -> list[Path]:
        """The course files that decide an assignment's grades (for the fingerprint)."""
        if self.kit is not None:
            return [self.kit.path]
        package = sys.modules[f"{self.package}.specs.{assignment.id}"]
        folder = Path(package.__file__ or ".").parent
        found = sorted(folder.rglob("*.py"))
        found += [self.reference_path(m) for m in assignment.modules]
        if assignment.support and self.support_dir is not None:
            found += [self.support_dir / name for name in sorted(self.support_files(
                [assignment]))]
        return found

    def support_files(self, assignments: list[Assignment] | tuple[Assignment, ...]
                      ) -> dict[str, bytes]:
        """The support files of ``assignments``: relative path -> bytes (``.py`` files; a
        folder brings every ``.py`` file under it), read once per course (every child of
        every student gets them)."""
        names = tuple(dict.fromkeys(n for a in assignments for n in a.support))
        if names not in self._support:
            self._support[names] = self._read_support(names)
        return self._support[names]

    def _read_support(self, names: tuple[str, ...]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for name in names:
            if self.support_dir is None:
                raise CourseError(f"{self.root / COURSE_FILE}: support {name!r} needs a support "
                                  "folder")
            path = inside(self.support_dir, name, "support file")
            files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            if not path.exists() or not files:
                raise CourseError(f"support {name!r}: no such file or package in "
                                  f"{self.support_dir}")
            for file in files:
                if "__pycache__" in file.parts:
                    continue
                found[file.relative_to(self.support_dir).as_posix()] = file.read_bytes()
        if len(found) > SUPPORT_LIMIT[0] or sum(map(len, found.values())) > SUPPORT_LIMIT[1]:
            raise CourseError(f"support files: more than {SUPPORT_LIMIT[0]} files or "
                              f"{SUPPORT_LIMIT[1] >> 20} MB")
        return found

    # ------------------------------------------------------------ the secret

    def secret(self) -> bytes:
        """The course secret that seeds the hidden cases, made (0600) on first use."""
        if self._secret is not None:
            return self._secret
        if self.secret_path is None:
            raise CourseError(f"{self.root} is a student kit: it has no hidden cases")
        path = self.secret_path
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        text = path.read_text().strip()
        if len(text) < 32:
            raise CourseError(f"{path}: the course secret must be at least 32 characters")
        self._secret = text.encode()
        return self._secret

    def secret_words(self) -> list[int]:
        """The secret as 32-bit words for ``numpy.random.default_rng``'s seed sequence."""
        digest = hashlib.sha256(self.secret()).digest()
        return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 32, 4)]


# ---------------------------------------------------------------- finding and loading


def find(option: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """The root of the course to use: ``option``, else ``$DLGRADE_COURSE``, else the
    nearest folder at or above ``cwd`` holding a ``course.toml``."""
    given = option if option is not None else os.environ.get(ENVIRONMENT) or None
    if given is not None:
        path = Path(given).expanduser()
        if path.is_file() and path.name == COURSE_FILE:
            path = path.parent
        where = "--course" if option is not None else f"${ENVIRONMENT}"
        if not (path / COURSE_FILE).is_file():
            raise CourseError(f"{where} {given}: no {COURSE_FILE} there")
        return path.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise CourseError(f"no course here: no {COURSE_FILE} in {here} or above it (pass "
                      f"--course PATH or set {ENVIRONMENT})")


def read_config(root: Path) -> dict[str, Any]:
    """The ``[course]`` table of ``root/course.toml``, checked."""
    path = root / COURSE_FILE
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("course")
    if not isinstance(table, dict):
        raise CourseError(f"{path}: needs a [course] table")
    extra = set(data) - _TABLES
    if extra:
        raise CourseError(f"{path}: unknown table(s) {', '.join(sorted(extra))}")
    try:
        feedback = read_feedback(data.get("feedback"), str(path))
    except FeedbackError as exc:
        raise CourseError(str(exc)) from None
    unknown = set(table) - _KEYS
    if unknown:
        raise CourseError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in [course]")
    for key in _KEYS - {"assignments"}:
        if key in table and not isinstance(table[key], str):
            raise CourseError(f"{path}: {key} must be a string")
    if not re.fullmatch(r"[\w.+-]{0,40}", table.get("version", "")):
        raise CourseError(f"{path}: version must be at most 40 letters, digits and . + - _ "
                          "(2026.1, say)")
    if "kit" not in table:
        ids = table.get("assignments")
        if (not isinstance(ids, list) or not ids
                or not all(isinstance(i, str) and i.isidentifier() for i in ids)):
            raise CourseError(f"{path}: assignments must be a list of assignment ids "
                              "(names of packages in the specs folder)")
        if len(set(ids)) != len(ids):
            raise CourseError(f"{path}: an assignment is listed twice")
    return {**table, "feedback": feedback}


def inside(root: Path, relative: str, what: str) -> Path:
    """``root / relative``, refused when it leads out of the course."""
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise CourseError(f"{root / COURSE_FILE}: {what} {relative!r} is outside the course")
    return path


def _package(name: str, path: Path | None) -> ModuleType:
    """A package named ``name`` whose modules are the ``.py`` files of ``path`` (None: an
    empty namespace), its ``__init__.py`` run if it has one."""
    if name in sys.modules:
        return sys.modules[name]
    init = path / "__init__.py" if path is not None else None
    if init is None or not init.is_file():
        module = ModuleType(name)
        module.__path__ = [str(path)] if path is not None else []
        sys.modules[name] = module
        return module
    spec = importlib.util.spec_from_file_location(name, init,
                                                  submodule_search_locations=[str(path)])
    if spec is None or spec.loader is None:
        raise CourseError(f"cannot load {path} as a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


_loaded: dict[Path, Course] = {}
_active: Course | None = None


def load(root: Path) -> Course:
    """The course at ``root``, loaded once per process and validated (a student kit is
    opened by :func:`dlgrade.api.open_course`, which takes either)."""
    root = Path(root).resolve()
    if root in _loaded:
        return _loaded[root]
    table = read_config(root)
    if "kit" in table:
        raise CourseError(f"{root} is a student kit, not a course")
    course = _load_course(root, table)
    _loaded[root] = course
    return course



def _load_course(root: Path, table: dict[str, Any]) -> Course:
    package = "_dlgrade_course_" + hashlib.sha256(str(root).encode()).hexdigest()[:12]
    specs = inside(root, table.get("specs", "assignments"), "specs")
    reference = inside(root, table.get("reference", "reference"), "reference")
    for folder, what in ((specs, "specs"), (reference, "reference")):
        if not folder.is_dir():
            raise CourseError(f"{root / COURSE_FILE}: the {what} folder {folder} is missing")
    course = Course(root=root, name=str(table.get("name", root.name)), assignments={},
                    templates_dir=inside(root, table.get("templates", "student_templates"),
                                          "templates"),
                    reference_dir=reference,
                    secret_path=inside(root, table.get("secret", ".dlgrade/secret"),
                                        "secret"),
                    support_dir=inside(root, table.get("support", "support"), "support"),
                    package=package, version=table.get("version", ""),
                    feedback=table["feedback"])
    _package(package, None)  # only its two subpackages, never the course root itself
    _package(f"{package}.specs", specs)
    _package(f"{package}.reference", reference)
    with using(course):  # a spec may read the reference while it is imported
        for assignment_id in table["assignments"]:
            if not (specs / assignment_id / "__init__.py").is_file():
                raise CourseError(f"{root / COURSE_FILE}: assignment {assignment_id!r} has no "
                                  f"package {specs / assignment_id}")
            module = importlib.import_module(f"{package}.specs.{assignment_id}")
            assignment = getattr(module, "ASSIGNMENT", None)
            if not isinstance(assignment, Assignment):
                raise CourseError(f"{specs / assignment_id}/__init__.py defines no ASSIGNMENT "
                                  "(a dlgrade.authoring.Assignment)")
            if assignment.id != assignment_id:
                raise SpecError(f"{specs / assignment_id} declares id {assignment.id!r}")
            course.assignments[assignment_id] = assignment
        validate(course)
    return course


def validate(course: Course) -> None:
    """Raise :class:`SpecError` when the course's specs do not fit together."""
    seen: set[str] = set()
    for a in course.assignments.values():  # (two may share a student module: layers.py)
        course.support_files([a])  # every support file is there
        if a.dtypes is not None:
            check_dtypes(a.dtypes, f"assignment {a.id!r}")
        by_id = {}
        for e in a.exercises:
            e.validate()
            if e.id in seen:
                raise SpecError(f"duplicate exercise id {e.id!r}")
            seen.add(e.id)
            if e.assignment != a.id:
                raise SpecError(f"exercise {e.id!r} does not belong to assignment {a.id!r}")
            if course.kit is None:
                reference = course.reference_module(e.module)
                for fn in e.functions:
                    if not callable(getattr(reference, fn, None)):
                        raise SpecError(f"exercise {e.id!r}: the reference {e.module}.py has "
                                        f"no {fn}()")
            by_id[e.id] = e
        for m in (*a.mutants, *a.variants):
            what = "mutant" if isinstance(m, Mutant) else "variant"
            target = by_id.get(m.exercise)
            if target is None:
                raise SpecError(f"{what} {m.id!r} targets an unknown exercise")
            if isinstance(m, Mutant) and (not set(m.fails) <= set(target.checks)
                                          or not m.fails):
                raise SpecError(f"mutant {m.id!r}: fails must name checks of {target.id}")
            if course.kit is not None:
                continue
            if bool(m.functions) == bool(m.patch):
                raise SpecError(f"{what} {m.id!r}: give it either a patch of the reference or "
                                "replacement functions")
            if not set(m.functions) <= set(target.functions):
                raise SpecError(f"{what} {m.id!r} replaces functions {target.id} does not have")
            if m.patch:
                apply_patch(course.reference_path(target.module).read_text(), m.patch,
                            f"{what} {m.id}")


# ---------------------------------------------------------------- the active course


def use(course: Course) -> Course:
    """Make ``course`` the one that lookups (:func:`active`) answer from."""
    global _active
    _active = course
    return course


@contextmanager
def using(course: Course) -> Iterator[Course]:
    global _active
    before = _active
    _active = course
    try:
        yield course
    finally:
        _active = before


def active_or_none() -> Course | None:
    """The course in use, or None when none was chosen yet."""
    return _active


def active() -> Course:
    """The course in use (chosen by ``--course``, ``dlgrade.load_course`` or :func:`use`)."""
    if _active is None:
        raise CourseError("no course in use: choose one with --course PATH (or "
                          "dlgrade.load_course(PATH))")
    return _active
