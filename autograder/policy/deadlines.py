"""Deadlines: when each student handed in, how late that was, and the late penalty.

A :class:`Deadline` holds the due date, the penalty per day late (a fraction of the score, per
day *or part of a day*), a grace period and an optional cut-off after which a late submission
scores zero. The time a student handed in is taken, in this order, from:

1. the instructor's CSV (``student,submitted_at[,assignment]``, ``--submitted-at``), e.g.
   exported from the LMS: the instructor's word wins over anything in a student's folder;
2. nbgrader's ``timestamp.txt``, written by ``nbgrader submit`` and kept by ``nbgrader
   collect``, and only in the folder nbgrader collected: ``STUDENT/ASSIGNMENT/`` (the
   submission itself, or the ``ASSIGNMENT/`` sub-folder of a ``STUDENT/`` folder that holds
   no code of its own). A ``timestamp.txt`` beside a student's own files, or in any other
   sub-folder, is the student's and is ignored: a late student could write one;
3. the newest modification time of the student's files (the weakest: copying files or
   unpacking an archive can change it, so every :class:`SubmissionTime` says its source).

Per-student extensions (``--extensions``, a CSV of ``student[,assignment],due|days``) move
one student's due date, to a date-time of its own or by extra days, on top of the class's;
the penalty, grace and cut-off stay the class's, counted from the extended date.

Penalties never overwrite a grade: :func:`apply` returns a :class:`LateResult` with the raw
score, the penalty and the final score side by side (and the extension that applied), so
exports and reports can show them. Naive date-times (no zone) are read in the grading
machine's local time zone.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from dlgrade.load.submission import Submission, _kind
from dlgrade.results import SubmissionResult
from dlgrade.spec.exercise import Assignment

T = TypeVar("T")
DAY = timedelta(days=1)
TIMESTAMP_FILE = "timestamp.txt"

SOURCE_NBGRADER = "nbgrader timestamp.txt"
SOURCE_CSV = "instructor CSV"
SOURCE_MTIME = "file modification time"


class DeadlineError(ValueError):
    """A due date, a duration or a submission-times file that cannot be read."""


# ---------------------------------------------------------------- parsing


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|h|minutes?|mins?|m|seconds?|secs?|s)"
                       r"(?![a-z])", re.IGNORECASE)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``15m``, ``2h``, ``1d``, ``1h30m``, ``90s`` or a bare number of minutes."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(minutes=float(text))
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(text):
        if text[pos:match.start()].strip():
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)[0].lower()]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise DeadlineError(f"cannot read the duration {text!r} (e.g. 15m, 2h, 1d, 1h30m)")
    return timedelta(seconds=seconds)


def _zone(name: str) -> Any:
    """A tzinfo for ``UTC``, ``Z``, ``+0100``, ``-05:00`` or an IANA name (``EST``,
    ``Europe/Paris``); None when unknown."""
    if name.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(offset.group(2)),
                                         minutes=int(offset.group(3))))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - any unknown or malformed zone name
        return None


def parse_datetime(text: str) -> datetime:
    """An aware date-time from ISO 8601 (``2026-11-30T23:59``, ``2026-11-30 23:59:00+01:00``,
    ``...Z``) or nbgrader's ``2026-11-30 23:59:00.123456 UTC`` (a zone name or offset after a
    space). Without a zone the time is local to this machine."""
    raw = text.strip()
    if not raw:
        raise DeadlineError("empty date-time")
    value: datetime | None = None
    zone = None
    parts = raw.rsplit(" ", 1)
    if len(parts) == 2 and re.fullmatch(r"[A-Za-z][A-Za-z_/+-]*|[+-]\d{2}:?\d{2}", parts[1]):
        zone = _zone(parts[1])
        if zone is None:
            raise DeadlineError(f"unknown time zone {parts[1]!r} in {raw!r}")
        raw = parts[0]
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        raise DeadlineError(f"cannot read the date-time {text.strip()!r} "
                            "(expected e.g. 2026-11-30T23:59 or 2026-11-30 23:59:00 UTC)") from None
    if zone is not None:
        value = value.replace(tzinfo=zone)
    return value if value.tzinfo is not None else value.astimezone()


# ---------------------------------------------------------------- the policy


@dataclass(frozen=True)
class Deadline:
    """A due date and its late policy.

    Attributes:
        due: the due date (aware; see :func:`parse_datetime`).
        penalty_per_day: fraction of the score taken per day late, a part day counting as a
            whole one (0.1: 10 % after one second past the grace, 20 % after a day and a
            second...); the penalty never exceeds the score.
        grace: submissions up to ``due + grace`` are on time; past it, lateness is counted
            from ``due`` (a 15-minute grace forgives clock skew, not a day).
        zero_after: days late after which the score is zero (None: no cut-off).
    """

    due: datetime
    penalty_per_day: float = 0.0
    grace: timedelta = timedelta(0)
    zero_after: int | None = None

    def __post_init__(self) -> None:
        if self.due.tzinfo is None:
            object.__setattr__(self, "due", self.due.astimezone())
        if not 0.0 <= self.penalty_per_day <= 1.0:
            raise DeadlineError(f"the late penalty per day must be between 0 and 1 "
                                f"(a fraction of the score), not {self.penalty_per_day}")
        if self.grace < timedelta(0):
            raise DeadlineError("the grace period cannot be negative")
        if self.zero_after is not None and self.zero_after < 0:
            raise DeadlineError("zero_after cannot be negative")

    def days_late(self, submitted: datetime) -> int:
        """Whole days late, a started day counting as one; 0 when on time or within grace."""
        late = _aware(submitted) - self.due
        if late <= self.grace:
            return 0
        return math.ceil(late / DAY)

    def penalty_fraction(self, submitted: datetime) -> float:
        """The share of the score taken for a submission at ``submitted`` (0 to 1)."""
        days = self.days_late(submitted)
        if days == 0:
            return 0.0
        if self.zero_after is not None and days > self.zero_after:
            return 1.0
        return min(1.0, round(days * self.penalty_per_day, 10))

    def describe(self) -> str:
        text = f"due {self.due.isoformat(timespec='minutes')}"
        if self.grace:
            text += f", {_format_duration(self.grace)} grace"
        if self.penalty_per_day:
            text += f", {self.penalty_per_day:.0%} off per day or part day late"
        if self.zero_after is not None:
            text += f", zero after {self.zero_after} day(s) late"
        return text


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


def _format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---------------------------------------------------------------- extensions


@dataclass(frozen=True)
class Extension:
    """One student's extension: a due date of their own (``due``) or ``days`` more than the
    class's (a fraction of a day is fine: 0.5 is twelve hours)."""

    due: datetime | None = None
    days: float = 0.0

    def applied(self, deadline: Deadline) -> Deadline:
        """``deadline`` with this extension's due date (penalty, grace, cut-off unchanged)."""
        due = self.due if self.due is not None else deadline.due + self.days * DAY
        return replace(deadline, due=due)

    def describe(self) -> str:
        if self.due is not None:
            return f"extension to {_aware(self.due).isoformat(timespec='minutes')}"
        return f"extension of {self.days:g} day(s)"


#: ``(student, assignment or None) -> extension``; None is "every assignment".
Extensions = Mapping[tuple[str, str | None], Extension]


def _read_rows(path: Path, header_ok: Callable[[set[str]], bool], wanted: str
               ) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each row of a student CSV that names a student (header names
    lowercased, values stripped); a header that is not ``header_ok`` is refused, saying it
    must name the columns ``wanted``."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not header_ok({h.strip().lower() for h in reader.fieldnames or []}):
                raise DeadlineError(f"{path}: the header must name the columns {wanted} "
                                    "(and optionally assignment)")
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                if row.get("student"):
                    yield line, row
    except OSError as exc:
        raise DeadlineError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DeadlineError(f"{path} is not a readable CSV file: {exc}") from None


def _key(row: Mapping[str, str]) -> tuple[str, str | None]:
    return row["student"], row.get("assignment") or None


def for_student(table: Mapping[tuple[str, str | None], T] | None, student: str,
                assignment: str | None) -> T | None:
    """The entry of a per-student table (extensions, submission times) for ``student`` on
    ``assignment``: its own row, else the student's row for every assignment, else None."""
    for key in ((student, assignment), (student, None)):
        if table and key in table:
            return table[key]
    return None


def read_extensions(path: Path) -> dict[tuple[str, str | None], Extension]:
    """The ``--extensions`` CSV: a header with ``student`` and either ``due`` (a date-time) or
    ``days`` (extra days), or both columns with one filled per row, and optionally
    ``assignment`` (blank: every assignment). One row per student (and assignment)."""
    found: dict[tuple[str, str | None], Extension] = {}
    for line, row in _read_rows(path, lambda h: "student" in h and bool({"due", "days"} & h),
                                "student and due or days"):
        key = _key(row)
        if key in found:
            raise DeadlineError(f"{path}, line {line}: a second extension for {_who(key)}")
        found[key] = _extension(row, f"{path}, line {line}")
    return found


def _extension(row: Mapping[str, str], where: str) -> Extension:
    due, days = row.get("due", ""), row.get("days", "")
    if bool(due) == bool(days):
        raise DeadlineError(f"{where}: give either due or days, not "
                            f"{'both' if due else 'neither'}")
    if due:
        try:
            return Extension(due=parse_datetime(due))
        except DeadlineError as exc:
            raise DeadlineError(f"{where}: {exc}") from None
    try:
        extra = float(days)
    except ValueError:
        raise DeadlineError(f"{where}: days must be a number, not {days!r}") from None
    if not 0 <= extra <= 3650 or math.isnan(extra):
        raise DeadlineError(f"{where}: days must be between 0 and 3650, not {days}")
    return Extension(days=extra)


def _who(key: tuple[str, str | None]) -> str:
    return key[0] if key[1] is None else f"{key[0]} on {key[1]}"


def extension_for(extensions: Extensions | None, student: str,
                  assignment: str | None) -> Extension | None:
    """The student's extension on ``assignment`` (a row for it, else one for every
    assignment); None when there is none."""
    return for_student(extensions, student, assignment)


def unused_extensions(extensions: Extensions | None, students: Iterable[str],
                      deadlines: Mapping[str, Deadline]) -> list[str]:
    """Warnings for extension rows that change nothing: a student not in the class, or an
    assignment without a due date in this run."""
    present = set(students)
    problems = []
    for student, assignment in extensions or {}:
        if student not in present:
            problems.append(f"extension for {student!r}, who is not in this class")
        elif assignment is not None and assignment not in deadlines:
            problems.append(f"extension for {student!r} on {assignment}, which has no due "
                            "date in this run")
    return problems


# ---------------------------------------------------------------- submission times


@dataclass(frozen=True)
class SubmissionTime:
    """When a student handed in, and where that was read (one of the ``SOURCE_*``)."""

    when: datetime
    source: str


#: ``(student, assignment or None) -> time``; None is "every assignment".
Times = Mapping[tuple[str, str | None], datetime]


def read_times(path: Path) -> dict[tuple[str, str | None], datetime]:
    """The instructor's CSV: a header with ``student`` and ``submitted_at`` and optionally
    ``assignment`` (blank: every assignment); one row per student (and assignment)."""
    found: dict[tuple[str, str | None], datetime] = {}
    for line, row in _read_rows(path, lambda h: {"student", "submitted_at"} <= h,
                                "student and submitted_at"):
        try:
            found[_key(row)] = parse_datetime(row["submitted_at"])
        except DeadlineError as exc:
            raise DeadlineError(f"{path}, line {line}: {exc}") from None
    return found


def nbgrader_timestamp(submission: Submission, assignment: str | None = None
                       ) -> datetime | None:
    """The time in nbgrader's ``timestamp.txt`` of the folder nbgrader collected for this
    student and ``assignment`` (see :func:`collected_folder`); None if there is none. Read as
    a regular file only (never through a link), at most 1 KiB."""
    from dlgrade.sandbox.files import read_regular

    folder = collected_folder(submission, assignment)
    if folder is None:
        return None
    candidate = folder / TIMESTAMP_FILE
    content = read_regular(candidate, limit=1024)
    if content is None:
        return None
    try:
        return parse_datetime(content.decode("utf-8", "replace"))
    except DeadlineError as exc:
        raise DeadlineError(f"{candidate}: {exc}") from None


def collected_folder(submission: Submission, assignment: str | None) -> Path | None:
    """nbgrader's ``STUDENT/ASSIGNMENT/`` folder for this submission, the only place a
    ``timestamp.txt`` is believed: the one :func:`~dlgrade.load.submission.discover` found
    in nbgrader's layout, else the submission itself when it is named after the assignment
    inside a folder named after the student, else the ``ASSIGNMENT/`` sub-folder of a folder
    named after the student that holds no code of its own (the student's files being in the
    assignment's folder, as nbgrader collects them). Never a folder reached through a link."""
    if submission.handed_in is not None:
        folder = submission.handed_in
    elif not assignment or not submission.is_folder:
        return None
    elif (submission.path.name == assignment
          and submission.path.parent.name == submission.student):
        folder = submission.path
    elif submission.path.name == submission.student and not _has_own_code(submission.path):
        folder = submission.path / assignment
    else:
        return None
    return folder if _kind(folder) == "folder" else None


def _has_own_code(folder: Path) -> bool:
    try:
        return any(p.suffix in (".py", ".ipynb") for p in folder.iterdir())
    except OSError:
        return True  # unreadable: not nbgrader's layout


def newest_mtime(submission: Submission) -> datetime | None:
    """The newest modification time among the submission's top-level files (not following
    links); None when there are none."""
    path = submission.path
    if submission.is_folder:
        try:
            entries = [p for p in path.iterdir() if not p.name.startswith(".")
                       and p.name != TIMESTAMP_FILE and _kind(p) == "file"]
        except OSError:
            return None
    else:
        entries = [path] if _kind(path) == "file" else []
    stamps = []
    for entry in entries:
        try:
            stamps.append(os.lstat(entry).st_mtime)
        except OSError:
            continue
    if not stamps:
        return None
    return datetime.fromtimestamp(max(stamps), tz=timezone.utc)


def submission_time(submission: Submission, times: Times | None = None,
                    assignment: str | None = None) -> SubmissionTime | None:
    """When ``submission`` was handed in (for ``assignment``): the instructor's CSV (a row
    for this assignment, else one for every assignment), else nbgrader's timestamp.txt where
    nbgrader collected it, else the newest file modification time; None when nothing says."""
    given = for_student(times, submission.student, assignment)
    if given is not None:
        return SubmissionTime(_aware(given), SOURCE_CSV)
    stamp = nbgrader_timestamp(submission, assignment)
    if stamp is not None:
        return SubmissionTime(stamp, SOURCE_NBGRADER)
    mtime = newest_mtime(submission)
    return SubmissionTime(mtime, SOURCE_MTIME) if mtime is not None else None


# ---------------------------------------------------------------- applying the penalty


@dataclass(frozen=True)
class LateResult:
    """One student's score on one assignment (or a whole submission), before and after the
    late penalty. ``submitted`` is None when no time could be found (no penalty then)."""

    student: str
    assignment: str | None
    raw: float
    max_score: float
    submitted: SubmissionTime | None
    days_late: int
    fraction: float  # of the raw score taken
    extension: Extension | None = None  # the student's own, already in days_late
    due: datetime | None = None  # the due date counted from (the extended one, if any)

    @property
    def penalty(self) -> float:
        return round(self.raw * self.fraction, 4)

    @property
    def final(self) -> float:
        return round(self.raw - self.penalty, 4)

    def describe(self) -> str:
        """One line for a report: e.g. ``2 day(s) late (nbgrader timestamp.txt): -20%``,
        with the student's extension when one applied."""
        granted = f", with an {self.extension.describe()}" if self.extension else ""
        if self.submitted is None:
            return f"submission time unknown: no penalty{granted}"
        when = self.submitted.when.isoformat(timespec="minutes")
        if self.days_late == 0:
            return f"on time (submitted {when}, from {self.submitted.source}{granted})"
        return (f"{self.days_late} day(s) late (submitted {when}, from "
                f"{self.submitted.source}{granted}): -{self.fraction:.0%}, "
                f"{self.raw:g} -> {self.final:g}")

    def to_json(self) -> dict[str, Any]:
        return {
            "raw": self.raw, "max_score": self.max_score, "penalty": self.penalty,
            "final": self.final, "days_late": self.days_late, "fraction": self.fraction,
            "submitted_at": self.submitted.when.isoformat() if self.submitted else None,
            "source": self.submitted.source if self.submitted else None,
            "due": self.due.isoformat() if self.due else None,
            "extension": self.extension.describe() if self.extension else None,
        }


def late_result(student: str, raw: float, max_score: float, deadline: Deadline,
                submitted: SubmissionTime | None, assignment: str | None = None,
                extension: Extension | None = None) -> LateResult:
    """The penalty for a raw score handed in at ``submitted`` (None: unknown, no penalty),
    against ``deadline`` moved by the student's ``extension`` if they have one."""
    if extension is not None:
        deadline = extension.applied(deadline)
    if submitted is None:
        return LateResult(student, assignment, raw, max_score, None, 0, 0.0, extension,
                          deadline.due)
    return LateResult(student, assignment, raw, max_score, submitted,
                      deadline.days_late(submitted.when),
                      deadline.penalty_fraction(submitted.when), extension, deadline.due)


def apply(result: SubmissionResult, submission: Submission,
          assignments: Sequence[Assignment], deadlines: Mapping[str, Deadline],
          times: Times | None = None, extensions: Extensions | None = None
          ) -> dict[str, LateResult]:
    """Per assignment of ``assignments`` that has a deadline: the student's raw total on it,
    the penalty and the final score (after the student's extension, if any). ``result`` is
    left unchanged (raw scores stay raw)."""
    by_id = {e.id: e for e in result.exercises}
    found = {}
    for a in assignments:
        deadline = deadlines.get(a.id)
        if deadline is None:
            continue
        raw = round(sum(by_id[e.id].score for e in a.exercises if e.id in by_id), 4)
        when = submission_time(submission, times, a.id)
        found[a.id] = late_result(result.student, raw, a.points, deadline, when, a.id,
                                  extension_for(extensions, result.student, a.id))
    return found


def apply_class(results: Iterable[SubmissionResult], submissions: Iterable[Submission],
                assignments: Sequence[Assignment], deadlines: Mapping[str, Deadline],
                times: Times | None = None, extensions: Extensions | None = None
                ) -> dict[str, dict[str, LateResult]]:
    """:func:`apply` for a class: ``student -> assignment -> LateResult``."""
    by_student = {s.student: s for s in submissions}
    return {r.student: apply(r, by_student[r.student], assignments, deadlines, times,
                             extensions)
            for r in results if r.student in by_student}


def apply_totals(student: str, totals: Mapping[str, tuple[float, float]],
                 deadlines: Mapping[str, Deadline],
                 submitted: Mapping[str, SubmissionTime | None],
                 extensions: Extensions | None = None) -> dict[str, LateResult]:
    """The same from per-assignment ``(score, max score)`` totals (e.g. a gradebook's) and
    known submission times per assignment."""
    return {a: late_result(student, score, max_score, deadlines[a], submitted.get(a), a,
                           extension_for(extensions, student, a))
            for a, (score, max_score) in totals.items() if a in deadlines}


# ---------------------------------------------------------------- from option values


def parse_deadlines(due: Sequence[str], late_penalty: float, grace: str,
                    zero_after: int | None, assignments: Sequence[Assignment]
                    ) -> dict[str, Deadline]:
    """``assignment id -> Deadline`` from the values of ``--due`` (``DATETIME`` for every
    assignment of ``assignments``, or ``a1=DATETIME`` for one: it wins whatever the order),
    ``--late-penalty``, ``--grace`` and ``--zero-after``; empty without ``--due``.

    Raises:
        DeadlineError: a value that cannot be read, or one that makes no sense without
            ``--due`` or for an assignment not in ``assignments``.
    """
    if not due:
        if late_penalty or zero_after is not None:
            raise DeadlineError("--late-penalty and --zero-after need --due")
        return {}
    grace_span = parse_duration(grace)
    ids = [a.id for a in assignments]
    found: dict[str, Deadline] = {}
    # Plain --due values first: --due a1=... overrides them whatever the order.
    for item in sorted(due, key=lambda i: _targeted(i) is not None):
        name, sep, value = item.partition("=")
        if _targeted(item) is not None:
            if name.strip() not in ids:
                raise DeadlineError(f"--due {item}: {name.strip()} is not being graded "
                                    f"({', '.join(ids)})")
            targets, text = [name.strip()], value
        else:
            targets, text = ids, item
        deadline = Deadline(parse_datetime(text), late_penalty, grace_span, zero_after)
        for target in targets:
            found[target] = deadline
    return found


def _targeted(item: str) -> str | None:
    """The assignment id of ``a1=DATETIME`` (any course's ids are identifiers); None for a
    plain date-time, which never holds an ``=``."""
    name, sep, _ = item.partition("=")
    return name.strip() if sep and name.strip().isidentifier() else None


def times_from_option(path: Path | None) -> dict[tuple[str, str | None], datetime] | None:
    """The ``--submitted-at`` CSV, read (None without it)."""
    return read_times(path) if path is not None else None


def extensions_from_option(path: Path | None, deadlines: Mapping[str, Deadline]
                           ) -> dict[tuple[str, str | None], Extension] | None:
    """The ``--extensions`` CSV, read (None without it); it needs ``--due``."""
    if path is None:
        return None
    if not deadlines:
        raise DeadlineError("--extensions needs --due (an extension moves a due date)")
    return read_extensions(path)
