"""Messages between the grader and a sandboxed child: JSON headers and ``.npy`` frames.

A message is ``u32 header length | header (UTF-8 JSON) | frame 0 | frame 1 | ...`` where the
header lists the frames' byte lengths under ``"frames"``. Values are JSON trees whose array
leaves are ``{"a": k}`` (frame ``k``); lists are ``{"list": [...]}``, dicts ``{"dict": {...}}``,
strings ``{"str": s}``, Python numbers sent by the grader ``{"num": x}`` and ``None`` is
``null``. Nothing is ever pickled.

This module is imported by the child, so it needs only the standard library and numpy.
Frames coming *from* the child are untrusted: :func:`decode_frame` checks the ``.npy`` header
(dtype whitelist, byte count) before touching the payload.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import time
from typing import Any

import numpy as np
from dlgrade.sandbox import parsing, text

HEADER_LIMIT = 1 << 20  # bytes of JSON per message
NPY_HEADER_LIMIT = 4096  # bytes of .npy header per frame
MAX_DIMENSION = 1 << 31  # per axis; a larger one cannot be a real answer (even when empty)

#: dtypes a child may send: real numbers and booleans, native or little-endian.
ALLOWED_DTYPES = frozenset(
    np.dtype(t).newbyteorder("<")
    for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64,
        np.uint8, np.uint16, np.uint32, np.uint64,
        np.float16, np.float32, np.float64,
    )
)


class WireError(Exception):
    """A malformed, oversized or late message."""


class Timeout(WireError):
    """No complete message arrived before the deadline."""


class Closed(WireError):
    """The other side closed the channel (the child exited or crashed)."""


class Unencodable(TypeError):
    """A value the child cannot send: not an array, number, string, list, dict or None."""


# ---------------------------------------------------------------- encoding (both sides)


def encode(value: Any, frames: list[bytes], *, depth: int = 0) -> Any:
    """The JSON tree for ``value``, appending its arrays to ``frames`` as ``.npy`` bytes."""
    if depth > 16:
        raise Unencodable("value is nested too deeply")
    if value is None:
        return None
    if isinstance(value, str):
        return {"str": value[:1000]}
    if isinstance(value, (tuple, list)):
        return {"list": [encode(v, frames, depth=depth + 1) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unencodable("dict keys must be strings")
        return {"dict": {k: encode(v, frames, depth=depth + 1) for k, v in value.items()}}
    if isinstance(value, (bool, int, float, np.ndarray, np.generic)) or hasattr(
        value, "__array__"
    ):
        array = np.array(value, order="C")  # a plain C-ordered copy, even of a subclass
    else:
        raise Unencodable(f"{type(value).__name__} is not an array or a number")
    if array.dtype.newbyteorder("<") not in ALLOWED_DTYPES:
        raise Unencodable(f"arrays of dtype {array.dtype} are not supported")
    frames.append(npy_bytes(array))
    return {"a": len(frames) - 1}


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` in ``.npy`` format 1.0 (as ``np.save`` writes it, ~10x faster for the small
    arrays graders send)."""
    array = np.asarray(array)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array) if array.ndim else array.copy()
    descr = np.lib.format.dtype_to_descr(array.dtype)
    shape = "(" + "".join(f"{n}, " for n in array.shape).rstrip(" ")
    shape = shape[:-1] + ")" if array.ndim > 1 else shape + ")"
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape}, }}"
    padding = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * (padding % 64) + "\n").encode("latin1")
    # One copy of the payload (the array's own buffer joined in), not tobytes() and a +.
    return b"".join((b"\x93NUMPY\x01\x00", struct.pack("<H", len(header)), header,
                     array if array.ndim else array.tobytes()))


def decode(tree: Any, arrays: list[np.ndarray]) -> Any:
    """Inverse of :func:`encode`, given the already validated frames."""
    if tree is None:
        return None
    if not isinstance(tree, dict) or len(tree) != 1:
        raise WireError("malformed value")
    (tag, body), = tree.items()
    if tag == "a":
        if not isinstance(body, int) or not 0 <= body < len(arrays):
            raise WireError("bad frame reference")
        return arrays[body]
    if tag == "list" and isinstance(body, list):
        return [decode(v, arrays) for v in body]
    if tag == "dict" and isinstance(body, dict):
        return {str(k): decode(v, arrays) for k, v in body.items()}
    if tag == "str" and isinstance(body, str):
        return body
    if tag == "num" and isinstance(body, (bool, int, float)):
        return body
    raise WireError(f"malformed value tag {tag!r}")


#: ``.npy`` header as numpy writes it; parsed by this regex (fast) before falling back to
#: numpy's own parser (``ast.literal_eval``, slower but also safe).
_NPY_HEADER = re.compile(
    rb"\{'descr': '([<|>][a-zA-Z][0-9]*)', 'fortran_order': (True|False), "
    rb"'shape': \(((?:[0-9]+, ?)*[0-9]*)\), \}[ ]*\n?"
)


def decode_frame(blob: bytes, expect: tuple[int, ...] | None = None) -> np.ndarray:
    """Parse one untrusted ``.npy`` frame into a plain read-only ndarray.

    Args:
        blob: the frame's bytes.
        expect: if given, the exact shape required (checked from the header, before the
            payload is touched).

    Raises:
        WireError: bad magic or header, a dtype outside :data:`ALLOWED_DTYPES`, a shape
            other than ``expect``, or a payload whose size differs from what the header's
            shape and dtype imply.
    """
    shape, fortran, dtype, start = _parse_header(blob)
    if dtype.newbyteorder("<") not in ALLOWED_DTYPES or dtype.byteorder == ">":
        raise WireError(f"dtype {dtype} is not allowed")
    if len(shape) > 32 or any(not isinstance(n, int) or not 0 <= n <= MAX_DIMENSION
                              for n in shape):
        raise WireError(f"bad shape {shape}")
    if expect is not None and tuple(shape) != tuple(expect):
        raise WireError(f"shape {tuple(shape)} where {tuple(expect)} was expected")
    count = 1
    for n in shape:
        count *= n
    payload = memoryview(blob)[start:]
    if count * dtype.itemsize != len(payload):
        raise WireError(f"payload of {len(payload)} bytes does not match {dtype} {shape}")
    try:
        array = np.frombuffer(payload, dtype=dtype)
        return array.reshape(shape, order="F" if fortran else "C")
    except ValueError as exc:  # e.g. an empty array whose other axes are still too big
        raise WireError(f"bad frame: {exc}") from None


def _parse_header(blob: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    if blob[:6] != b"\x93NUMPY" or len(blob) < 10:
        raise WireError("not an .npy frame")
    major = blob[6]
    size_bytes = 2 if major == 1 else 4 if major in (2, 3) else 0
    if not size_bytes:
        raise WireError(f"unsupported .npy version {major}")
    (length,) = struct.unpack("<H" if size_bytes == 2 else "<I", blob[8:8 + size_bytes])
    start = 8 + size_bytes + length
    if length > NPY_HEADER_LIMIT or start > len(blob):
        raise WireError("bad .npy header length")
    match = _NPY_HEADER.fullmatch(blob[8 + size_bytes:start])
    if match:
        descr, fortran, dims = match.groups()
        try:
            dtype = np.dtype(descr.decode())
        except TypeError:
            raise WireError(f"bad dtype {descr!r}") from None
        shape = tuple(int(d) for d in dims.replace(b" ", b"").split(b",") if d)
        return shape, fortran == b"True", dtype, start
    stream = io.BytesIO(blob)
    try:  # any other well-formed header, through numpy's safe literal parser
        version = np.lib.format.read_magic(stream)
        reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        with parsing.LOCK:  # it builds an AST (ast.literal_eval)
            shape, fortran, dtype = reader(stream, max_header_size=NPY_HEADER_LIMIT)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise WireError(f"bad .npy header: {exc}") from None
    return tuple(shape), bool(fortran), dtype, stream.tell()


# ---------------------------------------------------------------- framing


def _head(header: dict[str, Any], frames: list[bytes]) -> bytes:
    """What precedes a message's frames: ``u32 length | JSON header`` listing their lengths."""
    header = dict(header, frames=[len(f) for f in frames])
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return struct.pack(">I", len(raw)) + raw


#: Buffers one writev may take (Linux's IOV_MAX).
IOV_MAX = 1024


def write_message(fd: int, header: dict[str, Any], frames: list[bytes]) -> None:
    """One message (see the module's docstring), written without joining the frames into
    one copy first."""
    buffers = [memoryview(b) for b in (_head(header, frames), *frames) if len(b)]
    first = 0
    while first < len(buffers):
        written = os.writev(fd, buffers[first:first + IOV_MAX])
        while written:  # drop what was written; a pipe may take part of a buffer
            size = len(buffers[first])
            if written < size:
                buffers[first] = buffers[first][written:]
                break
            written -= size
            first += 1


class Reader:
    """Reads whole messages from a file descriptor, with a deadline and a size cap.

    ``untrusted``: the messages are a child's replies, whose every string is student text
    and goes through :func:`dlgrade.sandbox.text.clean` here, where it enters the grader."""

    def __init__(self, fd: int, *, max_bytes: int, untrusted: bool = False) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self.untrusted = untrusted
        self._buffer = bytearray()

    def _fill(self, size: int, deadline: float | None) -> None:
        while len(self._buffer) < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("no reply before the deadline")
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise Timeout("no reply before the deadline")
            chunk = os.read(self.fd, min(1 << 20, max(size - len(self._buffer), 65536)))
            if not chunk:
                raise Closed("channel closed")
            self._buffer += chunk

    def _take(self, size: int, deadline: float | None) -> bytes:
        self._fill(size, deadline)
        with memoryview(self._buffer) as view:
            out = bytes(view[:size])  # one copy (a slice of the bytearray would be two)
        del self._buffer[:size]
        return out

    def read(self, deadline: float | None = None,
             max_bytes: int | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """One message: its header and raw frames (validate them with decode_frame).

        ``max_bytes`` (at most the reader's own cap) bounds the frames of this message; it
        is checked from the header, before any frame is read."""
        (length,) = struct.unpack(">I", self._take(4, deadline))
        if length > HEADER_LIMIT:
            raise WireError(f"header of {length} bytes is too large")
        raw = self._take(length, deadline)
        try:
            header = json.loads(raw)
            if self.untrusted and not text.plain(raw):
                header = text.clean_tree(header)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise WireError("header is not JSON (or nested absurdly deep)") from None
        sizes = header.get("frames") if isinstance(header, dict) else None
        if not isinstance(sizes, list) or not all(
            isinstance(s, int) and s >= 0 for s in sizes
        ):
            raise WireError("header lacks a valid frame list")
        cap = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        total = 0
        for size in sizes:  # not sum(): the child reads with its student's builtins
            total += size
        if total > cap:
            raise WireError(f"a reply of {total} bytes where at most {cap} were expected")
        # Every frame in one read, then views of it: no copy per frame.
        body, frames, start = memoryview(self._take(total, deadline)), [], 0
        for size in sizes:
            frames.append(body[start:start + size])
            start += size
        return header, frames
