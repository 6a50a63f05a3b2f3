"""A class's results kept on disk, read back one at a time in the class's order.

``grade_class`` adds each student's result as it arrives (in whatever order the workers
finish); the class report, the exports and the HTML pages then read them back in the
class's order, one student in memory at a time. Held in memory instead, results grew the
grading process by ~19 KB a student (12 MB for 640 A1+A2 students; a MOOC's 50,000 would
hold about 1 GB).

The file is anonymous (``tempfile.TemporaryFile``: no name on Linux, so no other process,
a student's child included, can open it, and it is gone when closed or when this process
dies, however it dies). Each result is pickled: only this process writes the file, and it
holds what this process already had in memory. It is used from one thread.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, overload

from dlgrade.results import SubmissionResult


class ResultLog(Sequence[SubmissionResult]):
    """Results by student, on disk; a sequence in the order given to :meth:`arrange`
    (else in the order they were added). Adding a student again replaces their result."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        """``folder``: where the (nameless) file is made; None: the system's temp folder."""
        self._folder = folder
        self._file: IO[bytes] | None = None  # made by the first add
        self._end = 0
        self._where: dict[str, tuple[int, int]] = {}  # student -> (offset, length)
        self._order: list[str] = []

    def add(self, result: SubmissionResult) -> None:
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        if self._file is None:
            self._file = tempfile.TemporaryFile(dir=self._folder)
        self._file.seek(self._end)
        self._file.write(data)
        if result.student not in self._where:
            self._order.append(result.student)
        self._where[result.student] = (self._end, len(data))
        self._end += len(data)

    def arrange(self, students: Iterable[str]) -> None:
        """Read back in this order (students never added are left out)."""
        self._order = [s for s in dict.fromkeys(students) if s in self._where]

    def students(self) -> list[str]:
        return list(self._order)

    def get(self, student: str) -> SubmissionResult:
        offset, length = self._where[student]
        assert self._file is not None
        self._file.flush()
        self._file.seek(offset)
        return pickle.loads(self._file.read(length))

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> SubmissionResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[SubmissionResult]: ...
    def __getitem__(self, index: int | slice) -> SubmissionResult | list[SubmissionResult]:
        if isinstance(index, slice):
            return [self.get(s) for s in self._order[index]]
        return self.get(self._order[index])

    def __iter__(self) -> Iterator[SubmissionResult]:
        for student in list(self._order):
            yield self.get(student)

    def close(self) -> None:
        """Drop the file (the log is empty afterwards)."""
        if self._file is not None:
            self._file.close()
        self._file, self._end, self._where, self._order = None, 0, {}, []

