"""The .npy frame protocol: what the parent accepts from an untrusted child."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
from dlgrade.sandbox import wire


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_round_trip_of_nested_values():
    frames: list[bytes] = []
    value = {"out": np.arange(6.0).reshape(2, 3), "pair": [1.5, None, "s"]}
    tree = wire.encode(value, frames)
    decoded = wire.decode(tree, [wire.decode_frame(f) for f in frames])
    assert decoded["out"].tolist() == value["out"].tolist()
    assert decoded["pair"][1] is None and decoded["pair"][2] == "s"
    assert type(decoded["out"]) is np.ndarray


def test_scalars_keep_their_zero_dimensional_shape():
    frames: list[bytes] = []
    tree = wire.encode([1.5, np.float32(2.0), np.asfortranarray(np.ones((2, 3)))], frames)
    got = wire.decode(tree, [wire.decode_frame(f) for f in frames])
    assert [g.shape for g in got] == [(), (), (2, 3)]
    assert got[1].dtype == np.float32


def test_subclasses_become_plain_arrays_when_encoded():
    class Sub(np.ndarray):
        pass

    frames: list[bytes] = []
    wire.encode(np.zeros(3).view(Sub), frames)
    assert type(wire.decode_frame(frames[0])) is np.ndarray


@pytest.mark.parametrize("array", [np.array([1 + 2j]), np.array(["text"]),
                                   np.zeros(2, dtype=[("a", "f8")])])
def test_disallowed_dtypes_are_rejected(array):
    with pytest.raises(wire.WireError):
        wire.decode_frame(_npy(array))


def test_pickled_object_arrays_cannot_be_sent():
    with pytest.raises(wire.Unencodable):
        wire.encode(np.array([object()], dtype=object), [])


def test_lying_header_is_rejected_before_allocation():
    blob = _npy(np.zeros(2))
    with pytest.raises(wire.WireError, match="bad shape"):  # 8 TiB of float64
        wire.decode_frame(blob.replace(b"(2,)", b"(1099511627776,)"))
    with pytest.raises(wire.WireError, match="does not match"):  # 8 GiB, 16 bytes sent
        wire.decode_frame(blob.replace(b"(2,)", b"(1073741824,)"))
    with pytest.raises(wire.WireError):  # empty, yet absurd
        wire.decode_frame(_npy(np.zeros((0, 2))).replace(b"(0, 2)", b"(0, 2147483648)"))


def test_truncated_and_garbage_frames_are_rejected():
    with pytest.raises(wire.WireError):
        wire.decode_frame(_npy(np.zeros(4))[:-3])
    with pytest.raises(wire.WireError):
        wire.decode_frame(b"not an npy file at all")


def test_reader_enforces_size_cap_and_deadline():
    r, w = os.pipe()
    try:
        wire.write_message(w, {"ok": True}, [b"x" * 100])
        with pytest.raises(wire.WireError, match="at most 10"):
            wire.Reader(r, max_bytes=10).read(deadline=None)
        with pytest.raises(wire.Timeout):
            import time
            wire.Reader(r, max_bytes=10).read(deadline=time.monotonic() + 0.05)
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("sizes", [[3 << 20, 0, 5, 1 << 20], [7] * 1500, []])
def test_a_message_crosses_a_pipe_whole_in_parts(sizes):
    """Frames larger than a pipe holds (written in parts), empty ones, and more than one
    writev takes: the reader gets every frame, byte for byte, in order."""
    import threading

    frames = [bytes([n % 251]) * size for n, size in enumerate(sizes)]
    r, w = os.pipe()
    got = {}
    reader = threading.Thread(target=lambda: got.update(
        message=wire.Reader(r, max_bytes=1 << 30).read(deadline=None)))
    reader.start()
    try:
        wire.write_message(w, {"ok": True}, frames)
        reader.join(timeout=30)
    finally:
        os.close(w)
        os.close(r)
    header, received = got["message"]
    assert header["ok"] is True and header["frames"] == sizes
    assert [bytes(f) for f in received] == frames


def test_reader_rejects_oversized_header():
    r, w = os.pipe()
    try:
        os.write(w, struct.pack(">I", wire.HEADER_LIMIT + 1))
        with pytest.raises(wire.WireError, match="too large"):
            wire.Reader(r, max_bytes=10).read()
    finally:
        os.close(r)
        os.close(w)


def test_a_case_s_arrays_are_read_only_and_encoded_once_per_process():
    """Every student is sent the same case inputs: they are read-only (nothing may change
    them between students) and the grader encodes each once; a writeable array, which
    may change between two requests, is encoded every time."""
    from dlgrade.courses.course import load, using
    from dlgrade.grading.cases import build_cases
    from dlgrade.sandbox import runner
    from fixture_course import FIXTURE

    with using(load(FIXTURE)) as course:
        case = build_cases(course.assignment("hw1").exercises[0], True)[0]
    x = next(iter(case.inputs.values()))
    with pytest.raises(ValueError):
        x[...] = 0
    first, again = [], []
    runner._encode(x, first)
    runner._encode(x, again)
    assert first[0] is again[0]
    assert np.array_equal(wire.decode_frame(first[0]), x)
    copy = np.array(x)
    first, again = [], []
    runner._encode(copy, first)
    copy[...] = 1.0
    runner._encode(copy, again)
    assert np.array_equal(wire.decode_frame(again[0]), copy)
    assert not np.array_equal(wire.decode_frame(first[0]), copy)
