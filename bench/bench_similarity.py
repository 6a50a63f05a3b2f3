"""Benchmark: ``dlgrade similarity`` on a synthetic class of N students (default 1000).

Each student writes the fixture course's hw1 (``tests/fixtures/course``: ``ops.py`` with
``cube_forward``, ``cube_backward`` and ``sq_loss``) in their own way: one of several
formulations of each function, their own names, their own helper functions and comments;
a few make the course's known mistakes. Planted among them: pairs of copies (one disguised
by renaming every name, reordering the functions and reformatting) and pairs that share one
unusual wrong answer, written differently. The benchmark prints the seconds of each stage,
the pairs scored (out of N (N - 1) / 2), and where the planted pairs rank.

Usage: ``python bench/bench_similarity.py --students 1000`` (add ``--answers`` to also run
the hidden-answers pass, one sandboxed child per student; ``--workers`` for it).
The tests (``tests/test_similarity.py``) build their small classes with :func:`make_class`.
"""

from __future__ import annotations

import argparse
import ast
import io
import random
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "course"

_NAMES = ["x", "inp", "arr", "z", "values", "a", "data", "t", "u", "xs", "tensor", "v"]
_OUTS = ["out", "res", "result", "y", "cubed", "o", "ret", "answer", "val", "output"]
_WORDS = ["scale", "clip", "norm", "mix", "blend", "step", "shift", "warp", "pad", "fold",
          "twist", "tilt", "merge", "fuse", "bend", "stretch", "pool", "spread", "trim", "fit"]
_OPS = ["+", "-", "*"]
_FUNCS = ["np.abs", "np.sqrt", "np.tanh", "np.exp", "np.log1p", "np.square", "np.sin",
          "np.cos", "np.floor", "np.ceil", "np.sign"]


def _name(rng: random.Random, pool: list[str]) -> str:
    base = rng.choice(pool)
    return base if rng.random() < 0.5 else f"{base}{rng.choice(['_', ''])}{rng.randint(0, 9)}"


def _expression(rng: random.Random, names: list[str], depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.3:
        if rng.random() < 0.7:
            return rng.choice(names)
        return f"{rng.uniform(0.1, 9):.{rng.randint(1, 3)}f}"
    kind = rng.random()
    if kind < 0.4:
        return (f"({_expression(rng, names, depth + 1)} {rng.choice(_OPS)} "
                f"{_expression(rng, names, depth + 1)})")
    if kind < 0.7:
        return f"{rng.choice(_FUNCS)}({_expression(rng, names, depth + 1)})"
    return f"np.maximum({_expression(rng, names, depth + 1)}, {rng.randint(0, 5)})"


def _helper(rng: random.Random, used: set[str]) -> str:
    name = f"_{rng.choice(_WORDS)}_{rng.choice(_WORDS)}_{rng.randint(0, 99)}"
    while name in used:
        name += "x"
    used.add(name)
    params = rng.sample(["a", "b", "m", "w", "q", "k", "p"], rng.randint(1, 3))
    names = list(params)
    lines = [f"def {name}({', '.join(params)}):"]
    if rng.random() < 0.5:
        lines.append(f'    """{rng.choice(_WORDS)} the {rng.choice(_NAMES)} a little."""')
    for _ in range(rng.randint(2, 5)):
        target = _name(rng, ["tmp", "acc", "part", "piece", "s", "r", "h", "g"])
        if rng.random() < 0.25:
            lines.append(f"    if np.mean({rng.choice(names)}) > {rng.uniform(-1, 1):.2f}:")
            lines.append(f"        {target} = {_expression(rng, names)}")
            lines.append("    else:")
            lines.append(f"        {target} = {_expression(rng, names)}")
        elif rng.random() < 0.2:
            lines.append(f"    {target} = 0.0")
            lines.append(f"    for _ in range({rng.randint(2, 6)}):")
            lines.append(f"        {target} = {target} + {_expression(rng, names)}")
        else:
            lines.append(f"    {target} = {_expression(rng, names)}")
        names.append(target)
    lines.append(f"    return {_expression(rng, names)}")
    return "\n".join(lines)


def _cube_forward(rng: random.Random, x: str, o: str, mistake: str) -> str:
    body = rng.choice([
        f"    {o} = {x} ** 3\n    return {o}, {x}",
        f"    {o} = {x} * {x} * {x}\n    cache = {x}\n    return {o}, cache",
        f"    {o} = np.power({x}, 3)\n    return {o}, {x}",
        f"    sq = {x} * {x}\n    {o} = sq * {x}\n    return {o}, {x}.copy()",
        f"    {o} = np.empty_like({x})\n    for i in range({x}.size):\n"
        f"        {o}.flat[i] = {x}.flat[i] ** 3\n    return {o}, {x}",
    ])
    return f"def cube_forward({x}):\n{body}"


def _cube_backward(rng: random.Random, d: str, c: str, mistake: str) -> str:
    three = "" if mistake == "no_three" else "3.0 * "
    three_b = "" if mistake == "no_three" else " * 3"
    body = rng.choice([
        f"    return {three}{c} ** 2 * {d}",
        f"    x = {c}\n    grad = {three}x * x * {d}\n    return grad",
        f"    local = {three}np.square({c})\n    return local * {d}",
        f"    dx = {d} * {c} * {c}{three_b}\n    return dx",
    ])
    return f"def cube_backward({d}, {c}):\n{body}"


def _sq_loss(rng: random.Random, p: str, t: str, mistake: str) -> str:
    two = "1.0" if mistake == "no_two" else "2.0"
    grad_factor = {"rare1": " * 1.03", "rare2": ""}.get(mistake, "")
    variants = [
        f"    diff = {p} - {t}\n    loss = scale * float(np.sum(diff ** 2))\n"
        f"    dpred = {two} * scale * diff{grad_factor}\n    return loss, dpred",
        f"    e = ({p} - {t}).ravel()\n    loss = scale * float(e @ e)\n"
        f"    g = {two} * scale * ({p} - {t}){grad_factor}\n    return loss, g",
        f"    r = {p} - {t}\n    total = 0.0\n    for value in r.flat:\n"
        f"        total += value * value\n    return scale * total, {two} * scale * r{grad_factor}",
    ]
    body = rng.choice(variants)
    if mistake == "rare2":  # the same wrong numbers as rare1, in other words
        body = (f"    gap = {p} - {t}\n    loss = scale * float(np.dot(gap.ravel(), gap.ravel()))\n"
                f"    grad_p = gap * (2.06 * scale)\n    return loss, grad_p")
    return f"def sq_loss({p}, {t}, scale=1.0):\n{body}"


def make_student(rng: random.Random, mistake: str = "") -> str:
    """One student's ``ops.py``, written their own way. ``mistake``: "" (correct),
    "no_three" or "no_two" (the course's known mistakes), "rare1"/"rare2" (one unusual
    wrong gradient, the same numbers from different code)."""
    used: set[str] = set()
    parts = [_helper(rng, used) for _ in range(rng.randint(2, 4))]
    parts += [_cube_forward(rng, _name(rng, _NAMES), _name(rng, _OUTS), mistake),
              _cube_backward(rng, rng.choice(["dout", "grad_out", "g", "upstream"]),
                             rng.choice(["cache", "x", "saved", "ctx"]), mistake),
              _sq_loss(rng, rng.choice(["pred", "p", "yhat", "prediction"]),
                       rng.choice(["target", "y", "t", "truth"]), mistake)]
    rng.shuffle(parts)
    header = rng.choice(["import numpy as np\n", "import numpy as np  # arrays\n",
                         "# my homework\nimport numpy as np\n"])
    return header + "\n\n" + "\n\n\n".join(parts) + "\n"


_KEEP = {"np", "cube_forward", "cube_backward", "sq_loss", "scale"}


def disguise(code: str, rng: random.Random) -> str:
    """A copy made to look different: every name the student chose renamed (the graded
    functions keep theirs, or nothing could be graded), the functions reordered, reindented
    with two spaces, other spacing and blank lines, comments of its own."""
    tree = ast.parse(code)
    chosen = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    chosen |= {n.id for n in ast.walk(tree)
               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    chosen |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    chosen -= _KEEP | {"_"}
    renamed = {name: f"q{n}_{name[::-1].strip('_')}z" for n, name in enumerate(sorted(chosen))}
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    lines = code.splitlines(keepends=True)
    edits = []  # (row, col, old, new), right to left within a line
    for before, tok in zip([None, *tokens], tokens, strict=False):
        if tok.type == tokenize.NAME and tok.string in renamed and not (
                before is not None and before.string == "."):
            edits.append((tok.start[0], tok.start[1], tok.string, renamed[tok.string]))
    for row, col, old, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + len(old):]
    text = "".join(lines)
    body = ast.parse(text).body
    rows = text.splitlines()
    header = "\n".join(rows[: body[0].lineno - 1]) if body else ""
    header += "".join("\n" + "\n".join(rows[n.lineno - 1:n.end_lineno])
                      for n in body if not isinstance(n, ast.FunctionDef))
    functions = ["\n".join(rows[n.lineno - 1:n.end_lineno])
                 for n in body if isinstance(n, ast.FunctionDef)]
    rng.shuffle(functions)
    out = [header.strip("\n")]
    for function in functions:
        shaped = []
        for row in function.splitlines():
            indent = len(row) - len(row.lstrip(" "))
            row = " " * (indent // 2) + row.lstrip(" ")
            row = row.replace(", ", ",").replace(" = ", "=") if rng.random() < 0.5 else row
            if rng.random() < 0.2 and not row.rstrip().endswith(":"):
                row += f"  # {rng.choice(_WORDS)}"
            shaped.append(row)
        out.append(f"# {rng.choice(_WORDS)} step, written by me\n" + "\n".join(shaped))
    return "\n\n\n".join(out) + "\n"


def make_class(folder: Path, students: int, seed: int = 0, *, copies: int = 1,
               rare: int = 1, known: float = 0.1) -> dict[str, list[tuple[str, str]]]:
    """Write ``students`` folders ``s0000/ops.py`` ... into ``folder``: independent students
    (a share ``known`` of them making a known mistake), then ``copies`` planted pairs of a
    student and a disguised copy (``copy00a``/``copy00b``) and ``rare`` planted pairs sharing
    one unusual wrong answer (``rare00a``/``rare00b``). Returns the planted pairs."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, code: str) -> None:
        (folder / name).mkdir()
        (folder / name / "ops.py").write_text(code)

    planted = 2 * (copies + rare)
    for i in range(max(0, students - planted)):
        mistake = rng.choice(["no_three", "no_two"]) if rng.random() < known else ""
        write(f"s{i:04d}", make_student(rng, mistake))
    pairs: dict[str, list[tuple[str, str]]] = {"copies": [], "rare": []}
    for i in range(copies):
        original = make_student(rng)
        write(f"copy{i:02d}a", original)
        write(f"copy{i:02d}b", disguise(original, rng))
        pairs["copies"].append((f"copy{i:02d}a", f"copy{i:02d}b"))
    for i in range(rare):
        write(f"rare{i:02d}a", make_student(rng, "rare1"))
        write(f"rare{i:02d}b", make_student(rng, "rare2"))
        pairs["rare"].append((f"rare{i:02d}a", f"rare{i:02d}b"))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--copies", type=int, default=3, help="planted pairs of copies")
    parser.add_argument("--answers", action="store_true",
                        help="also run the hidden-answers pass (a child per student)")
    parser.add_argument("--workers", type=int, default=3, help="for --answers")
    args = parser.parse_args()

    from dlgrade import api
    from dlgrade.courses import course
    from dlgrade.grading import similarity
    from dlgrade.load.submission import survey

    fixture = api.load_course(FIXTURE)
    course.use(fixture)
    chosen = list(fixture.assignments.values())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        started = time.monotonic()
        planted = make_class(folder, args.students, args.seed, copies=args.copies)
        made = time.monotonic() - started
        students = survey(folder, [a.id for a in chosen]).submissions
        answers, answer_seconds = None, 0.0
        if args.answers:
            from dlgrade.grading.answers import class_answers

            started = time.monotonic()
            answers = class_answers(students, chosen, workers=args.workers)
            answer_seconds = time.monotonic() - started
        started = time.monotonic()
        result = similarity.analyse(students, chosen, answers=answers)
        total = time.monotonic() - started
    n = result.students
    print(f"students: {n} (class written in {made:.1f} s)")
    print(f"similarity: {total:.2f} s  (fingerprints {result.seconds['fingerprints']:.2f} s, "
          f"index {result.seconds['index']:.2f} s, pairs {result.seconds['pairs']:.2f} s)")
    if args.answers:
        print(f"hidden-answers pass: {answer_seconds:.2f} s with {args.workers} workers")
    print(f"pairs scored: {result.pairs_scored} of {n * (n - 1) // 2} "
          f"(sharing any kept fingerprint: {result.candidates}); listed: {len(result.pairs)}; "
          f"fingerprints held by more than {result.max_holders} students dropped")
    ranks = {frozenset((p.a, p.b)): r for r, p in enumerate(result.pairs, 1)}
    for kind, found in planted.items():
        for pair in found:
            print(f"planted {kind} {pair[0]}/{pair[1]}: rank "
                  f"{ranks.get(frozenset(pair), 'not listed')}")
    top = result.pairs[0] if result.pairs else None
    if top is not None:
        print(f"top pair: {top.a}/{top.b} score {top.score:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
