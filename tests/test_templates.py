"""Template generation from solution markers."""

from __future__ import annotations

import bundled
import pytest
from dlgrade.courses.templates import TemplateError, plan, strip_solutions

SOURCE = '''import numpy as np


def relu_forward(x):
    """out = max(0, x)."""
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    return out, x
    ### END SOLUTION


class Box:
    def helper(self, y):
        ### BEGIN SOLUTION
        return y
        ### END SOLUTION
'''


def test_solution_regions_become_stubs_naming_the_exercise():
    text = strip_solutions(SOURCE, "ref.py", {"relu_forward": "a1.relu"})
    assert "np.maximum" not in text and "return y" not in text
    stub = ('    # YOUR CODE HERE\n'
            '    raise NotImplementedError("a1.relu: implement relu_forward")\n')
    assert stub in text
    assert '        raise NotImplementedError("implement Box.helper")\n' in text
    assert '"""out = max(0, x)."""' in text  # docstrings stay: they are the spec
    compile(text, "template.py", "exec")


def test_a_method_of_a_graded_class_names_the_class_exercise():
    text = strip_solutions(SOURCE, "ref.py", {"Box": "a3.box"})
    assert '        raise NotImplementedError("a3.box: implement Box.helper")\n' in text


@pytest.mark.parametrize("bad, line, words", [
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", 3, "inside"),
    ("def f():\n    ### END SOLUTION\n", 2, "without a matching"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    ## BEGIN SOLUTION\n    ### END SOLUTION\n", 2, "malformed"),
    ("def f():\n    ### BEGIN SOLUTIONS\n", 2, "malformed"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "inside a function"),
])
def test_malformed_markers_name_file_and_line(bad, line, words):
    with pytest.raises(TemplateError, match=rf"^ref\.py:{line}: .*{words}"):
        strip_solutions(bad, "ref.py", {})


def test_shipped_templates_are_in_sync_and_every_stub_names_its_exercise():
    files = plan(bundled.COURSE)
    assert files, "no templates planned"
    for f in files:
        assert f.in_sync(), f"{f.target} is out of date: run dlgrade build-templates"
        assert "### BEGIN SOLUTION" not in f.text


def test_out_dir_receives_templates(tmp_path):
    from dlgrade.courses.templates import write

    written = write(plan(bundled.COURSE, out_dir=tmp_path))
    assert sorted(p.name for p in written) == sorted(p.name for p in tmp_path.iterdir())
    assert not write(plan(bundled.COURSE, out_dir=tmp_path))  # nothing changes the second time


def test_sample_student_dev_handed_in_the_current_templates(root):
    """samples/class/dev is "a student who changed nothing": it must track the templates."""
    for f in plan(bundled.COURSE):
        assert (root / "samples" / "class" / "dev" / f.target.name).read_text() == f.text
