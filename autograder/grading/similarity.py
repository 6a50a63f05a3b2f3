"""Collusion evidence for a class: code similarity between pairs of students, and identical
rare wrong answers on the hidden cases.

Evidence, not a verdict: pairs are ranked, each with what they share and where.

**Code.** Every student's files (as the loader reads them: a notebook gives its code cells)
are tokenised and normalised by copydetect (``pip install 'dlgrade[similarity]'``): names
become ``V``/``F``/``O``, strings ``S``, comments and layout vanish, so renaming and
reformatting change nothing. Hashes of every k-gram of that stream are winnowed (the MOSS
method) into fingerprints. Fingerprints of the course's own template code (what every student
received) are dropped, and so are those held by more than ``max_holders`` students (idioms a
whole class writes); an inverted index fingerprint -> students then yields the only pairs
worth scoring: those sharing at least ``min_shared`` fingerprints. A class is never compared
all against all. A pair's ``code`` score is the mean of the two students' shares: the part of
each one's own code (its kept fingerprints' extent) that the other has too. Reordering
functions moves whole regions, which are found wherever they are.

**Identical wrong answers** (:mod:`dlgrade.grading.answers`). Two students whose outputs on a
hidden case are wrong in the same way (the same numbers), where at most ``rare`` students of
the class have those numbers, share evidence that no code-similarity tool sees. Numbers
matching a known mistake of the course, constant arrays and inputs handed back are not
counted (independent students produce them too). Each exercise where a pair gives such
numbers has a weight 1 / (holders - 1) (1 when only the two of them have those numbers), and
the pair's ``answers`` score is 1 - prod(1 - weight / 2): 0.5 for one exercise that only the
two of them got wrong that way, 0.75 for two, 0.875 for three.

``score`` combines both as independent evidence: 1 - (1 - code) (1 - answers).
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from dlgrade.courses import templates
from dlgrade.courses.course import CourseError, active
from dlgrade.load.submission import Submission, from_path
from dlgrade.spec.exercise import Assignment

#: copydetect's defaults: k-grams of 25 characters of normalised code (a few tokens), and a
#: window of 6 (a match of 30 characters is always found).
K = 25
WINDOW = 6
#: Code of one file beyond this many characters is not fingerprinted (a hand-written module
#: is far smaller; the loader refuses files over 1 MiB).
MAX_CODE_CHARS = 200_000
MIN_SHARED = 3  # fingerprints a pair must share to be scored
MIN_CODE = 0.3  # a pair is listed on its code alone from this code score on
MIN_OVERLAP = 2 * K  # ... and when it shares at least this many normalised characters
REGIONS_KEPT = 30  # matching regions kept per pair


class SimilarityMissing(RuntimeError):
    """copydetect is not installed."""

    def __init__(self) -> None:
        super().__init__("dlgrade similarity needs copydetect: pip install 'dlgrade[similarity]' "
                         "(or pip install 'copydetect>=0.5')")


def require() -> None:
    """Raise :class:`SimilarityMissing` unless copydetect can be imported."""
    _copydetect()


def _copydetect() -> Any:
    try:
        from copydetect import utils
    except ImportError:
        raise SimilarityMissing() from None
    return utils


# ---------------------------------------------------------------- fingerprints


@dataclass
class CodeFile:
    """One file of one student, fingerprinted."""

    name: str
    code: str  # the raw text (shown in the report)
    filtered: str = ""
    offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=int))
    hash_idx: dict[int, list[int]] = field(default_factory=dict)

    def raw(self, position: int) -> int:
        """Where a position of the normalised code is in the raw code (copydetect's map)."""
        if len(self.offsets) == 0:
            return position
        at = int(np.clip(np.searchsorted(self.offsets[:, 0], position), 0,
                         len(self.offsets) - 1))
        return min(len(self.code), position + int(self.offsets[at, 1]))

    def line(self, raw_position: int) -> int:
        starts = _line_starts(self.code)
        return bisect.bisect_right(starts, raw_position)


def _line_starts(code: str) -> list[int]:
    return [0, *(i + 1 for i, c in enumerate(code) if c == "\n")]


@dataclass
class Document:
    """A student's code: every file, the union of their fingerprints, and the files left out."""

    student: str
    files: list[CodeFile]
    hashes: set[int]
    notes: list[str] = field(default_factory=list)
    coverage: int = 0  # normalised characters under kept fingerprints (set by the index)


def _fingerprint(utils: Any, name: str, code: str, boilerplate: np.ndarray,
                 k: int, window: int) -> CodeFile:
    filtered, offsets = utils.filter_code(code, name, "python")
    found = CodeFile(name, code, filtered, np.asarray(offsets, dtype=np.int64).reshape(-1, 2))
    if len(filtered) < k:
        return found
    hashes, idx = utils.winnow(utils.hashed_kgrams(filtered, k), window,
                               remove_duplicates=False)
    keep = ~np.isin(hashes, boilerplate)
    for h, i in zip(hashes[keep].tolist(), idx[keep].tolist(), strict=True):
        found.hash_idx.setdefault(h, []).append(i)
    return found


def _text(name: str, data: bytes) -> tuple[str | None, str]:
    """The code of a file, or None and why it is left out."""
    if b"\x00" in data:
        return None, f"{name}: not fingerprinted, it is binary"
    text = data.decode("utf-8", "replace")
    if len(text) > MAX_CODE_CHARS:
        return text[:MAX_CODE_CHARS], (f"{name}: only its first {MAX_CODE_CHARS} characters "
                                       "were fingerprinted")
    return text, ""


def template_hashes(assignments: Sequence[Assignment], extra: Iterable[Path] = (),
                    k: int = K) -> tuple[np.ndarray, list[str]]:
    """Every k-gram hash of what the students were given: the course's templates of
    ``assignments`` (as ``build-templates`` makes them, and as they are in its templates
    folder), and the code of ``extra`` files or folders (lecture code, a notebook handed
    out). Returns the hashes and the names of the files read."""
    utils = _copydetect()
    course = active()
    texts: dict[str, str] = {}
    try:
        for planned in templates.plan(course, assignments):
            texts[f"{planned.target.name} (built)"] = planned.text
    except (CourseError, OSError):
        pass  # a kit: its templates folder is what students got
    for module in dict.fromkeys(m for a in assignments for m in a.modules):
        path = course.templates_dir / f"{module}.py"
        if path.is_file() and not path.is_symlink():
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    for item in extra:
        for name, data in from_path(Path(item)).files().items():
            code, _ = _text(name, data)
            if code is not None:
                texts[f"{item}: {name}"] = code
    found = [utils.hashed_kgrams(utils.filter_code(t, "template.py", "python")[0], k)
             for t in texts.values()]
    hashes = np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)
    return hashes, sorted(texts)


def documents(submissions: Sequence[Submission], boilerplate: np.ndarray, *, k: int = K,
              window: int = WINDOW) -> list[Document]:
    """Every student's files fingerprinted, the template's fingerprints removed."""
    utils = _copydetect()
    found = []
    for submission in submissions:
        loaded = submission.load()
        notes = [f"{name or 'the submission'}: {why}" for name, why in loaded.refused.items()]
        files = []
        for name, data in sorted(loaded.files.items()):
            code, note = _text(name, data)
            if note:
                notes.append(note)
            if code is not None:
                files.append(_fingerprint(utils, name, code, boilerplate, k, window))
        hashes = {h for f in files for h in f.hash_idx}
        found.append(Document(submission.student, files, hashes, notes))
    return found


# ---------------------------------------------------------------- pairs


@dataclass
class Region:
    """A stretch of code one student has that the other has too."""

    a_file: str
    a_lines: tuple[int, int]
    b_file: str
    b_lines: tuple[int, int]
    size: int  # normalised characters

    def to_json(self) -> dict[str, Any]:
        return {"kind": "code", "a_file": self.a_file, "a_lines": list(self.a_lines),
                "b_file": self.b_file, "b_lines": list(self.b_lines), "size": self.size}


@dataclass
class SharedWrong:
    """An exercise on which two students give the same rare wrong numbers."""

    exercise: str
    cases: list[dict[str, str]]  # {"case", "value", "digest", "preview"}: the student's numbers
    holders: int  # students of the class with these numbers (the fewest over the cases)
    weight: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": "wrong_answer", "exercise": self.exercise, "holders": self.holders,
                "weight": round(self.weight, 4), "cases": self.cases}


@dataclass
class Pair:
    a: str
    b: str
    score: float
    code: float
    answers: float
    a_share: float  # of a's own code, the part b has too
    b_share: float
    shared_fingerprints: int
    regions: list[Region] = field(default_factory=list)
    wrong: list[SharedWrong] = field(default_factory=list)
    #: (student, file name) -> raw character ranges to highlight (the report's, not JSON's)
    highlights: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4),
                "code_score": round(self.code, 4), "answers_score": round(self.answers, 4),
                "a_share": round(self.a_share, 4), "b_share": round(self.b_share, 4),
                "shared_fingerprints": self.shared_fingerprints,
                "evidence": [w.to_json() for w in self.wrong]
                + [r.to_json() for r in self.regions]}


@dataclass
class Settings:
    k: int = K
    window: int = WINDOW
    max_holders: int | None = None  # None: max(2, min(10, class size // 5))
    min_shared: int = MIN_SHARED
    min_code: float = MIN_CODE
    rare: int | None = None  # None: max(2, 2 % of the class)

    def holders_for(self, students: int) -> int:
        return self.max_holders or max(2, min(10, students // 5))

    def rare_for(self, students: int) -> int:
        return self.rare or max(2, math.ceil(0.02 * students))


@dataclass
class Analysis:
    pairs: list[Pair]  # most suspicious first
    documents: dict[str, Document]
    students: int
    pairs_scored: int
    candidates: int  # pairs sharing any kept fingerprint
    seconds: dict[str, float]
    settings: Settings
    max_holders: int
    rare: int
    template_files: list[str]
    answers_read: bool

    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.pairs]


def _index(docs: list[Document], max_holders: int
           ) -> tuple[set[int], Counter[tuple[int, int]]]:
    """The fingerprints at least two and at most ``max_holders`` students hold, and how many
    of them each pair of students shares (only pairs sharing one are ever counted)."""
    holders: dict[int, list[int]] = defaultdict(list)
    for number, doc in enumerate(docs):
        for h in doc.hashes:
            holders[h].append(number)
    kept: set[int] = set()
    shared: Counter[tuple[int, int]] = Counter()
    for h, who in holders.items():
        if len(who) == 1:
            kept.add(h)  # a student's own code: counts in their coverage
        elif len(who) <= max_holders:
            kept.add(h)
            shared.update(combinations(who, 2))
    return kept, shared


def _coverage(files: Iterable[CodeFile], hashes: set[int] | None, k: int,
              utils: Any) -> tuple[int, dict[str, np.ndarray]]:
    """Normalised characters under the fingerprints in ``hashes`` (None: all), and their
    slices per file."""
    total, slices = 0, {}
    for f in files:
        idx = [i for h, at in f.hash_idx.items() if hashes is None or h in hashes for i in at]
        if not idx:
            continue
        cut = utils.get_copied_slices(np.asarray(idx, dtype=np.int64), k)
        slices[f.name] = cut
        total += int(np.sum(cut[1] - cut[0]))
    return total, slices


def _regions(da: Document, db: Document, shared: set[int], k: int) -> list[Region]:
    """Stretches of a's code that b has too, each with where b has it: shared fingerprints
    chained in a's order while b's follow along (a function moved elsewhere is its own
    region, wherever it went)."""
    where_b: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for f in db.files:
        for h, at in f.hash_idx.items():
            if h in shared:
                where_b[h].extend((f.name, i) for i in at[:4])
    files_b = {f.name: f for f in db.files}
    found = []
    for fa in da.files:
        matches = sorted((ia, fb, ib) for h, at in fa.hash_idx.items() if h in shared
                         for ia in at[:4] for fb, ib in where_b[h])
        runs: list[list[Any]] = []  # [a start, a last, b file, b start, b last]
        for ia, fb, ib in matches:
            for run in reversed(runs[-8:]):
                if (run[2] == fb and ia - run[1] <= 2 * k and ib >= run[4] - k
                        and abs((ib - run[4]) - (ia - run[1])) <= k):
                    run[1], run[4] = ia, max(run[4], ib)
                    break
            else:
                runs.append([ia, ia, fb, ib, ib])
        for a0, a1, name, b0, b1 in runs:
            fb = files_b[name]
            found.append(Region(fa.name, (fa.line(fa.raw(a0)), fa.line(fa.raw(a1 + k - 1))),
                                name, (fb.line(fb.raw(b0)), fb.line(fb.raw(b1 + k - 1))),
                                a1 + k - a0))
    found.sort(key=lambda r: -r.size)
    return found[:REGIONS_KEPT]


def _highlights(doc: Document, slices: dict[str, np.ndarray]) -> dict[tuple[str, str],
                                                                        list[tuple[int, int]]]:
    files = {f.name: f for f in doc.files}
    return {(doc.student, name): [(files[name].raw(int(s)), files[name].raw(int(e) - 1) + 1)
                                  for s, e in zip(cut[0], cut[1], strict=True)]
            for name, cut in slices.items()}


def _shared_wrong(answers: Sequence[Any], rare: int) -> dict[tuple[str, str], list[SharedWrong]]:
    """Per pair of students (in name order), the exercises where they give the same rare
    wrong numbers."""
    holders: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    found: dict[tuple[str, str, str, str], Any] = {}
    for student in answers:
        for w in student.wrong:
            if w.known:
                continue
            holders[w.key].add(student.student)
            found.setdefault(w.key, w)
    per_pair: dict[tuple[str, str], dict[str, list[tuple[Any, int]]]] = defaultdict(
        lambda: defaultdict(list))
    for key, who in holders.items():
        if 2 <= len(who) <= rare:
            for a, b in combinations(sorted(who), 2):
                per_pair[(a, b)][key[0]].append((found[key], len(who)))
    result = {}
    for pair, exercises in per_pair.items():
        result[pair] = [
            SharedWrong(exercise, [{"case": w.case, "value": w.value, "digest": w.digest,
                                    "preview": w.preview} for w, _ in items],
                        min(n for _, n in items), 1.0 / (min(n for _, n in items) - 1))
            for exercise, items in sorted(exercises.items())]
    return result


def analyse(submissions: Sequence[Submission], assignments: Sequence[Assignment], *,
            settings: Settings | None = None, answers: Sequence[Any] | None = None,
            boilerplate: Iterable[Path] = (),
            on_stage: Callable[[str], None] | None = None) -> Analysis:
    """Rank the pairs of ``submissions`` by collusion evidence on ``assignments``.

    ``answers``: the class's :class:`~dlgrade.grading.answers.StudentAnswers` (from
    :func:`~dlgrade.grading.answers.class_answers`); None: code similarity only.
    ``boilerplate``: more files or folders whose code every student was given.
    """
    utils = _copydetect()
    settings = settings or Settings()
    say = on_stage or (lambda text: None)
    clock: dict[str, float] = {}
    started = time.monotonic()
    template, template_files = template_hashes(assignments, boilerplate, settings.k)
    say(f"fingerprinting {len(submissions)} students")
    docs = documents(submissions, template, k=settings.k, window=settings.window)
    by_name = {d.student: d for d in docs}
    clock["fingerprints"] = time.monotonic() - started
    now = time.monotonic()
    max_holders = settings.holders_for(len(docs))
    kept, shared = _index(docs, max_holders)
    for doc in docs:
        doc.coverage = _coverage(doc.files, kept, settings.k, utils)[0]
    candidates = {pair for pair, n in shared.items() if n >= settings.min_shared}
    rare = settings.rare_for(len(docs))
    wrong_pairs = _shared_wrong(answers or (), rare)
    number = {d.student: n for n, d in enumerate(docs)}
    candidates |= {(number[a], number[b]) for a, b in wrong_pairs
                   if a in number and b in number}
    clock["index"] = time.monotonic() - now
    now = time.monotonic()
    say(f"scoring {len(candidates)} pairs")
    pairs = []
    for i, j in sorted(candidates):
        da, db = docs[i], docs[j]
        common = {h for h in (da.hashes & db.hashes) if h in kept}
        over_a, slices_a = _coverage(da.files, common, settings.k, utils)
        over_b, slices_b = _coverage(db.files, common, settings.k, utils)
        a_share = over_a / da.coverage if da.coverage else 0.0
        b_share = over_b / db.coverage if db.coverage else 0.0
        code = (a_share + b_share) / 2
        key = (da.student, db.student) if da.student <= db.student else (db.student,
                                                                          da.student)
        wrong = wrong_pairs.get(key, [])
        answer_score = 1 - math.prod(1 - w.weight / 2 for w in wrong)
        listed = (code >= settings.min_code and min(over_a, over_b) >= MIN_OVERLAP) or wrong
        if not listed:
            continue
        pair = Pair(da.student, db.student, 1 - (1 - code) * (1 - answer_score), code,
                    answer_score, a_share, b_share, len(common), wrong=wrong)
        if common:
            pair.regions = _regions(da, db, common, settings.k)
            pair.highlights = {**_highlights(da, slices_a), **_highlights(db, slices_b)}
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, -p.code, p.a, p.b))
    clock["pairs"] = time.monotonic() - now
    clock["total"] = time.monotonic() - started
    return Analysis(pairs, by_name, len(docs), len(candidates), len(shared), clock, settings,
                    max_holders, rare, template_files, answers is not None)
