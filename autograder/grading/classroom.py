"""Grading a whole class: side by side on all cores (or on a Dask cluster), resumable.

Each student becomes a :class:`Task` that carries the submission's bytes, so what is hashed
is exactly what is graded and a remote worker needs no shared file system. Results are
recorded in the gradebook one student at a time, each in one transaction, as they arrive: a
run killed halfway keeps every finished student, and the next run skips every student whose
files and course are unchanged (same content hash, same course fingerprint).
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures import Executor as PoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dlgrade.api import open_course
from dlgrade.courses import course, handouts, registry
from dlgrade.courses.templates import current_handout
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import Loaded, Submission, content_hash
from dlgrade.results import SubmissionResult
from dlgrade.sandbox import capabilities, jail, runner
from dlgrade.spec.exercise import Assignment
from dlgrade.store.gradebook import Gradebook
from dlgrade.store.result_log import ResultLog


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to grade one student (plain data, cheap to ship)."""

    student: str
    files: dict[str, bytes]  # file name -> content
    single_file: bool
    assignments: tuple[str, ...]
    hidden: bool = True
    track: tuple[tuple[str, str], ...] = ()  # ("name", "torch"), ("device", "cpu"); () numpy
    course: str = ""  # the course's folder: a Dask worker loads it from there
    refused: tuple[tuple[str, str], ...] = ()  # file name -> why it was not read ("": all)
    feedback: str = ""  # what failed hidden cases say; "": the course's [feedback] hidden


def make_task(submission: Submission, assignments: Iterable[Assignment], *,
              hidden: bool = True, track: dict[str, str] | None = None,
              loaded: Loaded | None = None, feedback: str = "") -> Task:
    """``loaded``: the submission's files as already read (and hashed), so the task carries
    exactly the bytes its content hash covers."""
    loaded = loaded if loaded is not None else submission.load()
    return Task(submission.student, loaded.files, not submission.is_folder,
                tuple(a.id for a in assignments), hidden, tuple(sorted((track or {}).items())),
                str(course.active().root), tuple(sorted(loaded.refused.items())), feedback)


def run_task(task: Task) -> SubmissionResult:
    """Grade one task (runs in a worker thread, a worker process or a Dask worker)."""
    if task.course and (course.active_or_none() is None
                        or course.active().root != Path(task.course)):
        course.use(open_course(Path(task.course)))
    # In the grading process's run folder: hidden from every child, removed with it even
    # if this process is killed (the next run sweeps it).
    folder = Path(tempfile.mkdtemp(prefix="task-", dir=capabilities.run_folder()))
    try:
        for name, content in task.files.items():
            (folder / Path(name).name).write_bytes(content)
        if task.single_file and not task.files:  # a link or a FIFO: nothing to grade
            path = folder / f"{task.student}.py"
        else:
            path = folder / next(iter(task.files)) if task.single_file else folder
        submission = Submission(task.student, path, refused=task.refused)
        return grade_submission(submission, [registry.assignment(a) for a in task.assignments],
                                hidden=task.hidden, track=dict(task.track) or None,
                                feedback=task.feedback or None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Executor(Protocol):
    """Runs tasks and yields their results as they finish (in any order)."""

    def run(self, tasks: Iterable[Task]) -> Iterator[SubmissionResult]: ...

    def warm_worker_here(self) -> bool:
        """Whether a warm worker (zygote) started by this process serves the students'
        children (so it is worth starting early): this process's threads use it, and its
        forked workers share it; remote workers have their own."""
        ...


def default_workers() -> int:
    """One more than the cores: a worker spends part of its time waiting on its child, so
    one extra keeps every core busy (measured: 3 workers grade 1.3x faster than 2 on 2
    cores, 4 no faster than 3)."""
    return (os.cpu_count() or 1) + 1


def can_fork_workers() -> bool:
    """Whether workers can be grading processes forked from this one (Linux, more than
    one core); else they are threads of this process."""
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


@dataclass
class LocalExecutor:
    """``workers`` students graded at once on this machine, each worker driving its own
    sandboxed child; ``workers=1`` grades one student at a time, in this process.

    With more than one worker (and :func:`can_fork_workers`), each worker is a grading
    process forked from this one once the reference outputs are computed (it inherits
    them, and the loaded course, without recomputing anything). Threads of one process
    would share one interpreter lock: the grading side of a student (comparisons,
    diagnosis, frames) is Python, about 65 ms of CPU per A1+A2 student, so threads never
    passed ~15 students a second however many cores. ``processes=False`` keeps threads.
    A worker dies with this process (PR_SET_PDEATHSIG), stops its student on Ctrl-C (see
    :func:`_run_in_worker`) and removes its run folder and cgroups when it leaves."""

    workers: int = field(default_factory=lambda: default_workers())
    processes: bool | None = None  # None: forked processes where they can be

    def forks(self) -> bool:
        """Whether the workers are forked processes (else threads of this process). Left
        to itself (``processes=None``) it forks only from a process that runs no other
        thread: in a notebook kernel, say, another thread may hold a lock at the fork that
        the worker would then wait on forever."""
        wanted = (self.processes if self.processes is not None
                  else can_fork_workers() and threading.active_count() == 1)
        return wanted and self.workers > 1

    def warm_worker_here(self) -> bool:
        return True

    def run(self, tasks: Iterable[Task]) -> Iterator[SubmissionResult]:
        forked = self.forks()
        context = multiprocessing.get_context("fork")
        stop = context.Event() if forked else None  # once set, a worker starts no more tasks
        numbers = context.Value("i", 0) if forked else None  # each worker takes the next
        pool: PoolExecutor = (
            ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                initializer=_worker_started,
                                initargs=(os.getpid(), stop, numbers))
            if forked else ThreadPoolExecutor(max_workers=max(1, self.workers)))
        pending: set[Future[SubmissionResult]] = set()
        queue = iter(tasks)
        if forked:
            # The first submit forks the workers: what they inherit is frozen out of their
            # garbage collector's walks, which would unshare its pages (tree PSS at 640
            # students: 300 -> 255 MB). Here it only spares the collector those walks.
            gc.freeze()
            runner.share_zygotes(self.workers)  # one zygote for all (see share_zygotes)
        try:
            for task in queue:  # keep at most 2 x workers in flight, so an interrupt is cheap
                pending.add(pool.submit(_run_in_worker if forked else run_task, task))
                if forked:  # with fork, the first submit started every worker
                    runner.release_shared()
                if len(pending) >= 2 * self.workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (_result(f) for f in done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (_result(f) for f in done)
        finally:
            if forked:
                runner.release_shared()  # no task at all: nothing was forked
            if stop is not None:  # the tasks a worker already holds in its queue too
                stop.set()
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            if forked:
                gc.unfreeze()


def _run_in_worker(task: Task) -> SubmissionResult:
    """:func:`run_task` in a forked worker: Ctrl-C (SIGINT to the terminal's process
    group) stops the student in flight, whose child is then cleaned up as after any error;
    between tasks it is ignored, so an idle worker never dies with a traceback of ours."""
    if _stop is not None and _stop.is_set():
        raise KeyboardInterrupt  # the run is over: this task was queued before it ended
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run_task(task)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerDied(RuntimeError):
    """A forked grading worker was killed from outside (the OOM killer, a signal)."""


def _result(future: Future[SubmissionResult]) -> SubmissionResult:
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkerDied("a grading worker process was killed from outside (out of memory, "
                         "or a signal); every student graded before it is in the gradebook: "
                         "run the same command again to finish") from None


#: In a forked worker: the run's stop event (see LocalExecutor.run).
_stop: Any = None


def _worker_started(parent: int, stop: Any, numbers: Any) -> None:
    """In a forked worker, before its first task."""
    jail.die_with_parent()
    if os.getppid() != parent:  # the grading process died before the line above
        os._exit(70)
    global _stop
    _stop = stop
    with numbers.get_lock():
        number, numbers.value = numbers.value, numbers.value + 1
    runner.take_shared(number)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # see _run_in_worker
    # A worker leaves by os._exit, past atexit: its run folder and cgroups go here.
    multiprocessing.util.Finalize(None, capabilities.end_run, exitpriority=100)


@dataclass
class DaskExecutor:
    """Tasks on a Dask distributed cluster (``address`` of its scheduler, or a Client).

    Every Dask worker needs dlgrade installed; submissions travel inside the tasks.
    """

    address: object

    def warm_worker_here(self) -> bool:
        return False

    def run(self, tasks: Iterable[Task]) -> Iterator[SubmissionResult]:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise RuntimeError("the dask executor needs `pip install distributed`") from None
        client = self.address if isinstance(self.address, Client) else Client(self.address)
        try:
            futures = client.map(run_task, list(tasks), pure=False)
            for future in as_completed(futures):
                yield future.result()
        finally:
            if client is not self.address:
                client.close()


def warm_up(assignments: list[Assignment], track: dict[str, str] | None = None, *,
            warm_worker: bool = True) -> None:
    """Start the isolation probe and (``warm_worker``) the warm worker, separate processes,
    while this thread computes every reference output the run will need."""
    from dlgrade.grading.grader import expectations, program_expectations
    from dlgrade.sandbox import capabilities, runner

    libraries = tuple(dict.fromkeys(lib for a in assignments for lib in a.libraries))
    if track and track.get("name") == "torch":
        libraries = tuple(dict.fromkeys((*libraries, "torch")))
    starter = threading.Thread(target=lambda: (
        capabilities.detect(), runner.zygote(libraries) if warm_worker else None), daemon=True)
    starter.start()
    for a in assignments:
        for exercise in a.exercises:
            if exercise.kind == "program":
                program_expectations(exercise, True)
            else:
                expectations(exercise, True)
    starter.join()


@dataclass
class ClassResult:
    #: Every student, in the class's order: on disk, read back one at a time (a list of
    #: results would grow this process with the class).
    results: ResultLog
    graded: list[str]  # graded in this run
    skipped: list[str]  # unchanged since they were last graded: taken from the gradebook


def grade_class(
    submissions: list[Submission],
    assignments: list[Assignment],
    *,
    executor: Executor,
    gradebook: Gradebook | None = None,
    force: bool = False,
    on_result: Callable[[SubmissionResult, bool], None] | None = None,
    track: dict[str, str] | None = None,
    feedback: str = "",
) -> ClassResult:
    """Grade every submission (public and hidden cases) and record each as it finishes.

    Args:
        submissions: the class.
        assignments: what to grade.
        executor: where to run (:class:`LocalExecutor` or :class:`DaskExecutor`).
        gradebook: where to record results and look up unchanged students (one opened
            read-only is only looked up: ``grade --dry-run``).
        force: regrade students whose files and course did not change.
        on_result: called with (result, was graded now) for each student, e.g. a progress bar.
        track: the torch track (``{"name": "torch", "device": ...}``); None for numpy.
        feedback: what failed hidden cases say (``none``, ``mistake``, ``full``); "": the
            course's ``[feedback] hidden``.
    """
    warm_up(assignments, track, warm_worker=executor.warm_worker_here())
    # Grades of one track are never reused for another.
    suffix = "" if not track else "+" + "-".join(v for _, v in sorted(track.items()))
    # Nor are grades given at one feedback level reused for another (the messages differ).
    level = feedback or course.active().feedback.hidden
    suffix += "" if level == "full" else f"+feedback-{level}"
    prints = {a.id: registry.fingerprint(a) + suffix for a in assignments}
    done = ResultLog(capabilities.run_folder())
    skipped: list[str] = []
    # student -> assignment -> hash of the bytes its task carries: files are read once, and
    # the hash recorded is that of what was graded, even if the folder changes meanwhile.
    # Kept only while the student is in flight (a list: a class may list a student twice).
    hashes: dict[str, list[dict[str, str]]] = {}

    def tasks() -> Iterator[Task]:
        # Made as the executor asks for them (a local one keeps 2 x workers in flight), so
        # a class's files are never all in memory at once.
        for submission in submissions:
            loaded = submission.load()
            hashed = {a.id: content_hash(loaded, list(a.modules)) for a in assignments}
            stored = None
            if gradebook is not None and not force:
                stored = gradebook.load(submission.student, assignments, hashed, prints)
            if stored is None:
                hashes.setdefault(submission.student, []).append(hashed)
                yield make_task(submission, assignments, track=track, loaded=loaded,
                                feedback=feedback)
                continue
            # The gradebook keeps grades, not notices: said again from the files.
            stored.notices = handouts.notices(
                submission, (m for a in assignments for m in a.modules),
                lambda m: current_handout(course.active(), m))
            done.add(stored)
            skipped.append(submission.student)
            if on_result is not None:
                on_result(stored, False)

    graded = []
    for result in executor.run(tasks()):
        hashed = hashes[result.student].pop(0)
        if not hashes[result.student]:
            del hashes[result.student]
        if gradebook is not None and not gradebook.read_only:
            gradebook.record(result, [(a, hashed[a.id], prints[a.id]) for a in assignments])
        done.add(result)
        graded.append(result.student)
        if on_result is not None:
            on_result(result, True)
    done.arrange(s.student for s in submissions)
    return ClassResult(done, graded, skipped)
