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
import select
import struct
import time
from typing import Any

import numpy as np

HEADER_LIMIT = 1 << 20  # bytes of JSON per message
NPY_HEADER_LIMIT = 4096  # bytes of .npy header per frame

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
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    frames.append(buffer.getvalue())
    return {"a": len(frames) - 1}


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


def decode_frame(blob: bytes) -> np.ndarray:
    """Parse one untrusted ``.npy`` frame into a plain read-only ndarray.

    Raises:
        WireError: bad magic, header, dtype outside :data:`ALLOWED_DTYPES`, or a payload
            whose size differs from what the header's shape and dtype imply.
    """
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                stream, max_header_size=NPY_HEADER_LIMIT
            )
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                stream, max_header_size=NPY_HEADER_LIMIT
            )
        else:
            raise WireError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, TypeError) as exc:
        raise WireError(f"bad .npy header: {exc}") from None
    if dtype.newbyteorder("<") not in ALLOWED_DTYPES or dtype.byteorder == ">":
        raise WireError(f"dtype {dtype} is not allowed")
    if len(shape) > 32 or any(not isinstance(n, int) or n < 0 for n in shape):
        raise WireError(f"bad shape {shape}")
    count = 1
    for n in shape:
        count *= n
    payload = blob[stream.tell():]
    if count * dtype.itemsize != len(payload):
        raise WireError(f"payload of {len(payload)} bytes does not match {dtype} {shape}")
    array = np.frombuffer(payload, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


# ---------------------------------------------------------------- framing


def pack(header: dict[str, Any], frames: list[bytes]) -> bytes:
    header = dict(header, frames=[len(f) for f in frames])
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return b"".join([struct.pack(">I", len(raw)), raw, *frames])


def write_message(fd: int, header: dict[str, Any], frames: list[bytes]) -> None:
    data = memoryview(pack(header, frames))
    while data:
        written = os.write(fd, data)
        data = data[written:]


class Reader:
    """Reads whole messages from a file descriptor, with a deadline and a size cap."""

    def __init__(self, fd: int, *, max_bytes: int) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
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
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def read(self, deadline: float | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """One message: its header and raw frames (validate them with decode_frame)."""
        (length,) = struct.unpack(">I", self._take(4, deadline))
        if length > HEADER_LIMIT:
            raise WireError(f"header of {length} bytes is too large")
        try:
            header = json.loads(self._take(length, deadline))
        except (ValueError, UnicodeDecodeError):
            raise WireError("header is not JSON") from None
        sizes = header.get("frames") if isinstance(header, dict) else None
        if not isinstance(sizes, list) or not all(
            isinstance(s, int) and s >= 0 for s in sizes
        ):
            raise WireError("header lacks a valid frame list")
        if sum(sizes) > self.max_bytes:
            raise WireError(f"message of {sum(sizes)} bytes exceeds {self.max_bytes}")
        return header, [self._take(s, deadline) for s in sizes]
