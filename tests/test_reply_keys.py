"""The grader keeps a case's replies apart from its input names."""

from __future__ import annotations


def test_an_input_named_like_a_reply_key_grades_correctly(tmp_path):
    """An exercise input called ``value`` once overwrote the forward's reply with the
    gradient check's probe replies, so even the reference failed (found by A8)."""
    from dlgrade import api
    from dlgrade.grading.grader import grade_submission
    from dlgrade.load.submission import Submission
    from fixture_course import FIXTURE, copy_fixture

    course = copy_fixture(tmp_path / "course")
    spec = course / "specs" / "hw1" / "__init__.py"
    text = spec.read_text()
    for old, new in (('return {"x": x * 1e3', 'return {"value": x * 1e3'),
                     ('inputs=("x",), wrt=("x",)', 'inputs=("value",), wrt=("value",)'),
                     ('x = inputs["x"]', 'x = inputs["value"]')):
        assert old in text
        text = text.replace(old, new)
    spec.write_text(text)
    loaded = api.load_course(course)
    result = grade_submission(Submission("right", FIXTURE / "students" / "right"),
                              [loaded.assignment("hw1")], hidden=True, only={"hw1.cube"})
    cube = result.exercises[0]
    assert cube.status == "passed", cube.message
    assert {c.name for c in cube.checks} >= {"forward", "backward", "gradcheck"}
