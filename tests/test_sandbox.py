"""Failures of student code score 0 with a clear message, and grading goes on.

These go through real child processes. (The full adversarial suite is issue 3's.)
"""

from __future__ import annotations

import os
import textwrap

import pytest
from dlgrade.courses import registry
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import Submission
from dlgrade.sandbox.runner import Limits, Session, SessionOver

GOOD_SIGMOID = '''
def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out

def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)
'''


def _grade(tmp_path, body, only=("a1.sigmoid", "a1.tanh"), limits=None):
    path = tmp_path / "activations.py"
    path.write_text("import numpy as np\n" + textwrap.dedent(body))
    result = grade_submission(Submission("s", path), [registry.assignment("a1")], hidden=True,
                              only=set(only), limits=limits)
    return {e.id: e for e in result.exercises}, result


def test_exception_is_reported_with_the_students_line_and_others_still_graded(tmp_path):
    body = GOOD_SIGMOID + '''
def tanh_forward(x):
    return np.reshape(x, (7, 7)), None
'''
    got, _ = _grade(tmp_path, body)
    assert got["a1.sigmoid"].status == "passed"
    tanh = got["a1.tanh"]
    assert tanh.score == 0 and tanh.status == "error"
    assert "ValueError" in tanh.message and "activations.py, line" in tanh.message
    assert "autograder" not in tanh.message  # never our traceback


def test_missing_function_and_stub(tmp_path):
    body = '''
def sigmoid_forward(x):
    raise NotImplementedError("a1.sigmoid: implement sigmoid_forward")
'''
    got, _ = _grade(tmp_path, body)
    assert got["a1.sigmoid"].status == "not_attempted"
    assert got["a1.tanh"].status == "missing" and "does not define tanh_forward" in \
        got["a1.tanh"].message


def test_syntax_error_names_the_students_line(tmp_path):
    got, _ = _grade(tmp_path, "def sigmoid_forward(x)\n    return x, x\n")
    for e in got.values():
        assert e.status == "syntax" and e.score == 0
        assert "line 2" in e.message and "def sigmoid_forward(x)" in e.message


def test_infinite_loop_times_out_and_next_exercise_is_graded(tmp_path):
    body = '''
def tanh_forward(x):
    while True:
        pass
''' + GOOD_SIGMOID
    got, _ = _grade(tmp_path, body, only=("a1.tanh", "a1.sigmoid"))
    assert got["a1.tanh"].status == "timeout" and got["a1.tanh"].score == 0
    assert got["a1.sigmoid"].status == "passed"


@pytest.mark.parametrize("kill", ["os._exit(0)", "sys.exit(0)", "os.kill(os.getpid(), 9)"])
def test_exits_and_crashes_score_zero(tmp_path, kill):
    body = f'''
import os, sys
def tanh_forward(x):
    {kill}
''' + GOOD_SIGMOID
    got, _ = _grade(tmp_path, body)
    # In a PID namespace the child is pid 1, which a SIGKILL from inside does not kill: then
    # tanh_forward just returns None, a stub's answer (not attempted), still 0.
    assert got["a1.tanh"].score == 0 and got["a1.tanh"].status in ("crash", "error",
                                                                   "not_attempted")
    assert got["a1.sigmoid"].status == "passed"


def test_fake_results_on_stdout_and_patched_numpy_do_not_help(tmp_path):
    body = '''
print('{"ok": true, "score": 100}')
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None

def sigmoid_forward(x):
    return 0 * x, None

def sigmoid_backward(dout, cache):
    return 0 * dout
'''
    got, result = _grade(tmp_path, body, only=("a1.sigmoid",))
    assert got["a1.sigmoid"].score == 0
    assert '"score": 100' in result.output  # what it printed is shown, and only shown


def test_hung_import_is_a_timeout_for_that_module(tmp_path):
    import dlgrade.grading.grader as grading

    old = grading.IMPORT_TIMEOUT
    grading.IMPORT_TIMEOUT = 1.0
    try:
        got, _ = _grade(tmp_path, "import time\ntime.sleep(60)\n")
    finally:
        grading.IMPORT_TIMEOUT = old
    assert all(e.status == "timeout" and e.score == 0 for e in got.values())


def test_session_kills_the_whole_process_group(tmp_path):
    path = tmp_path / "activations.py"
    path.write_text(textwrap.dedent('''
        import subprocess, sys
        def spawn(x):
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            while True:
                pass
    '''))
    session = Session({"activations": path}, tmp_path, Limits())
    with pytest.raises(SessionOver) as over:
        session.call("activations", "spawn", [1.0], {}, timeout=1.5)
    assert over.value.reply.kind == "timeout"
    pgid = session.process.pid
    session.cleanup()
    assert _live_members(pgid) == []


def test_a_closed_child_leaves_not_even_a_zombie(tmp_path):
    """A child is two processes (the outer one and PID 1 of its namespace), killed as a
    group once its student is graded: the inner one, orphaned when the outer dies first,
    is adopted and reaped by the zygote, not left a zombie of an init that may be slow to
    reap it (this machine's left 10 for 40 students)."""
    path = tmp_path / "activations.py"
    path.write_text("def double(x):\n    return 2 * x\n")
    groups = []
    for _ in range(8):  # which of the two dies first varies
        with Session({"activations": path}, tmp_path, Limits()) as session:
            assert session.call("activations", "double", [1.0], {}, timeout=10).ok
        groups.append(session.process.pid)
    assert [pid for g in groups for pid in _members(g, zombies=True, wait=1.0)] == []


def _on_a_channel(tmp_path, monkeypatch):
    """A session spawned as a forked worker's would be: over a channel of its own to this
    process's zygote. Returns the zygote, the channel, the session and the module's path;
    :func:`_served_by` then checks the zygote still serves this process."""
    from dlgrade.sandbox import runner

    shared = runner.zygote(("numpy",))
    assert shared is not None
    channel = shared.channel()
    monkeypatch.setitem(runner._zygotes, ("numpy",), channel)
    path = tmp_path / "activations.py"
    path.write_text("def double(x):\n    return 2 * x\n")
    return shared, channel, Session({"activations": path}, tmp_path, Limits()), path


def _served_by(shared, path, tmp_path, monkeypatch) -> None:
    from dlgrade.sandbox import runner

    monkeypatch.setitem(runner._zygotes, ("numpy",), shared)
    with Session({"activations": path}, tmp_path, Limits()) as again:
        assert again.call("activations", "double", [3.0], {}, timeout=10).value == 6.0
    assert runner._zygotes[("numpy",)] is shared and shared.alive()


def test_a_closed_zygote_channel_kills_the_children_it_spawned(tmp_path, monkeypatch):
    """A forked grading worker talks to the shared zygote over a channel of its own; when
    the worker dies (its channel closes) the zygote kills the children it spawned, and
    goes on serving the others."""
    shared, channel, session, path = _on_a_channel(tmp_path, monkeypatch)
    assert session.call("activations", "double", [2.0], {}, timeout=10).value == 4.0
    pgid = session.process.pid
    channel.close()  # as when its worker is killed
    assert _live_members(pgid) == []
    session.cleanup()
    _served_by(shared, path, tmp_path, monkeypatch)


def test_a_worker_gone_before_its_answer_leaves_the_shared_zygote_serving(
        tmp_path, monkeypatch):
    """A worker killed between its request and the zygote's answer: the answer cannot be
    sent, and the zygote drops that channel (killing its children), not itself."""
    import json
    import socket
    import time

    shared, channel, session, path = _on_a_channel(tmp_path, monkeypatch)
    pgid = session.process.pid
    request = {"op": "wait", "pid": pgid, "timeout": 0.5}  # answered in 0.5 s
    socket.send_fds(channel.control, [json.dumps(request).encode()], [])
    channel.close()
    time.sleep(0.8)
    assert shared.alive()
    assert _live_members(pgid) == []
    session.cleanup()
    _served_by(shared, path, tmp_path, monkeypatch)


def _live_members(pgid: int) -> list[int]:
    """Processes of a group that are still running (zombies awaiting their reaper are dead)."""
    return _members(pgid, zombies=False)


def _members(pgid: int, *, zombies: bool, wait: float = 5.0) -> list[int]:
    """The processes of a group (with ``zombies``, those awaiting a reaper too), once
    there are none or ``wait`` seconds went by."""
    import time

    deadline = time.monotonic() + wait
    while True:
        live = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and (zombies or fields[0] != "Z"):
                    live.append(int(entry))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


def test_torch_preloaded_in_the_zygote_works_in_forked_children(tmp_path):
    """torch is imported once by the warm worker; a forked child must not deadlock on its
    thread pools (it is set to one thread) and must start fresh for every submission."""
    pytest.importorskip("torch")
    path = tmp_path / "activations.py"
    path.write_text(textwrap.dedent('''
        import torch
        def probe(x):
            t = torch.randn(200, 200)
            return float(torch.linalg.norm(t @ t)), torch.get_num_threads(), torch.rand(1).item()
    '''))
    seen = []
    for _ in range(2):
        with Session({"activations": path}, None, Limits(), preload=("numpy", "torch")) as s:
            reply = s.call("activations", "probe", [1.0], {}, timeout=60)
        assert reply.ok, reply.message
        norm, threads, draw = (float(v) for v in reply.value)
        assert norm > 0 and threads == 1
        seen.append(draw)
    assert seen[0] == seen[1]  # every child is reseeded alike: reproducible grades


def test_a_dead_zygote_is_replaced_and_cold_start_grades_the_same(tmp_path, monkeypatch):
    from dlgrade.sandbox import runner

    body = GOOD_SIGMOID + "\ndef tanh_forward(x):\n    return np.tanh(x), None\n"
    warm, _ = _grade(tmp_path, body)
    for z in list(runner._zygotes.values()):  # the warm worker dies between two students
        os.kill(z.process.pid, 9)
        z.process.wait()
    again, _ = _grade(tmp_path, body)
    assert runner._zygotes[("numpy",)].alive()  # a new one serves the next student
    monkeypatch.setitem(runner.LAUNCH, "mode", "cold")
    cold, _ = _grade(tmp_path, body)
    summary = [{k: (e.score, e.status) for k, e in g.items()} for g in (warm, again, cold)]
    assert summary[0] == summary[1] == summary[2]
    assert summary[0]["a1.sigmoid"] == (2.0, "passed")


def test_a_reply_bigger_than_the_answer_could_be_is_refused_unread(tmp_path):
    body = '''
def sigmoid_forward(x):
    return np.zeros((1000, 1000)), None   # 8 MB where 160 bytes are expected

def sigmoid_backward(dout, cache):
    return dout
''' + "\ndef tanh_forward(x):\n    return np.tanh(x), None\n"
    got, _ = _grade(tmp_path, body)
    sigmoid = got["a1.sigmoid"]
    assert sigmoid.score == 0 and sigmoid.status == "error"
    assert "at most" in sigmoid.message and "expected" in sigmoid.message
    assert got["a1.tanh"].checks[0].score > 0  # the next exercise is graded by a new child


def test_hidden_directories_keep_only_what_is_bound_back(tmp_path):
    """The jail's mount layer on its own: a tmpfs hides a directory; kept directories come
    back, read-only unless they are the scratch directory; the host sees no change."""
    import subprocess
    import sys

    from dlgrade.sandbox import capabilities

    if not capabilities.detect().namespaces:
        pytest.skip("namespaces are not available on this machine")
    hidden = tmp_path / "hidden"
    (hidden / "venv").mkdir(parents=True)
    (hidden / "venv" / "lib.py").write_text("x = 1\n")
    (hidden / "scratch").mkdir()
    (hidden / "secret.txt").write_text("secret")
    probe = f"""
import os
from dlgrade.sandbox import jail
h = {str(hidden)!r}
jail.unshare_namespaces([h], [h + "/scratch", h + "/venv"], h + "/scratch")
print(sorted(os.listdir(h)), open(h + "/venv/lib.py").read().strip())
open(h + "/scratch/out", "w").write("ok")
try:
    open(h + "/venv/evil", "w")
    print("venv writable")
except OSError as exc:
    print("venv read-only", exc.errno)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['scratch', 'venv'] x = 1", "venv read-only 30"]
    assert (hidden / "scratch" / "out").read_text() == "ok"
    assert not (hidden / "venv" / "evil").exists()
    assert (hidden / "secret.txt").exists()
