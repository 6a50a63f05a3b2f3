"""The class outputs (report, HTML, CSV, JSON) walk a class's results once, one student at
a time, and say what they said when they walked a list again and again: a class's results
are read back from disk (dlgrade.store.result_log). On the fixture course."""

from __future__ import annotations

import json
import os

import pytest
from class_results import a_class, result
from dlgrade import api
from dlgrade.outputs import atomic
from dlgrade.outputs.exports import render, table_from_results, write_scores_json
from dlgrade.outputs.html_report import class_page, write_reports
from dlgrade.outputs.report import class_report
from dlgrade.results import SubmissionResult
from fixture_course import FIXTURE


@pytest.fixture(autouse=True)
def hw1():
    """The fixture course is the one in use; its hw1, as the list the outputs take."""
    return [api.load_course(FIXTURE).assignment("hw1")]


# ---------------------------------------------------------------- outputs walk it once


class _Once:
    """Results that can be walked once, as a reader that must not come back would see
    them: a second walk raises."""

    def __init__(self, results: list[SubmissionResult]) -> None:
        self.results, self.walked = results, False

    def __iter__(self):
        assert not self.walked, "walked the results twice"
        self.walked = True
        return iter(self.results)


def test_every_class_output_walks_the_results_once_and_says_the_same(hw1, tmp_path):
    results = a_class()
    assert class_report(_Once(results), hw1) == class_report(results, hw1)
    assert class_page(_Once(results), hw1) == class_page(results, hw1)
    table = table_from_results(_Once(results), hw1)
    assert [row.student for row in table.rows] == ["Ann", "ann", "bob", "cleo"]
    assert render(table, "csv") == render(table_from_results(results, hw1), "csv")
    write_reports(_Once(results), hw1, tmp_path / "once")
    write_reports(results, hw1, tmp_path / "list")
    for page in ("index.html", "students/ann.html", "students/Ann-2.html"):
        assert (tmp_path / "once" / page).read_text() == (tmp_path / "list" / page).read_text()


def test_the_class_report_counts_what_it_did_before(hw1):
    text = class_report(a_class(), hw1)
    assert "4 students, mean 3.30 / 6" in text
    assert "Fewest full marks: hw1.cube (1/4)" in text
    assert "cleo: ops.py" in text and "Written against an older handout (1;" in text


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_scores_file_is_what_json_would_write_whole(tmp_path, count):
    results = a_class()[:count]
    path = tmp_path / "scores.json"
    write_scores_json(_Once(results), path)
    whole = {r.student: {e.id: e.to_json() for e in r.exercises} for r in results}
    assert path.read_text() == json.dumps(whole, indent=2)


def test_a_scores_file_cut_short_leaves_the_old_one_whole(tmp_path):
    path = tmp_path / "scores.json"
    path.write_text("old")

    def failing():
        yield result("ann", 0.8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_scores_json(failing(), path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["scores.json"]
    with pytest.raises(OSError), atomic.writing(tmp_path / "new") as f:
        f.write(b"half")
        raise OSError("disk full")
    assert os.listdir(tmp_path) == ["scores.json"]
