"""Tracks: what the student's functions receive and return, inside the child.

* ``numpy`` (the default): float64 ``numpy.ndarray`` in, arrays out.
* ``torch``: the same inputs as ``torch.Tensor`` (float64, int64 labels) on the grading
  device (``cpu`` or ``cuda``), tensors out; the backward passes are written by hand, so any
  use of autograd (``requires_grad``, ``backward()``, ``torch.autograd.grad``) is detected
  and reported as the ``autograd`` error, which scores the exercise 0. Detection does not
  rest on a torch-function mode alone (a mode is per thread and can be disabled or popped):
  calls run with grad mode off, the autograd engine itself is a tripwire for every thread,
  and returned values and inputs are checked after the call.

Conversions happen at the edge of the child: the grader still sends and receives ``.npy``
frames and never sees a tensor.

On either track, the libraries a course bans (``Assignment.banned_libraries``: by default the
deep-learning frameworks, whose autograd or ready-made losses would do the exercise) cannot
be imported by the student's code: :class:`Ban` refuses them with an ImportError that says
so, and takes them out of ``sys.modules`` where the warm worker had loaded them. The track's
own libraries (torch on the torch track) are never banned.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

TRACKS = ("numpy", "torch")
DEVICES = ("cpu", "cuda")


class AutogradUsed(Exception):
    """The student's code used autograd on the torch track."""


class NotATensor(Exception):
    """A torch-track answer that is a numpy value: the track's answers are tensors."""


class Track:
    """The numpy track: values pass through unchanged."""

    name = "numpy"
    #: Libraries the track imports for the student's code, which no file of theirs may
    #: be named like (see ``Child.shadowing``).
    libraries: tuple[str, ...] = ()

    def incoming(self, value: Any) -> Any:
        return value

    def outgoing(self, value: Any) -> Any:
        return value

    def call(self, function: Any, args: list, kwargs: dict) -> Any:
        return function(*args, **kwargs)

    def ban(self, names: Iterable[str], directory: str) -> None:
        """Refuse the student's code the libraries ``names`` (less this track's own), from
        now on in this process (see :class:`Ban`)."""
        banned = frozenset(names) - set(self.libraries)
        if not banned:
            return
        for name in list(sys.modules):
            if name.partition(".")[0] in banned:
                del sys.modules[name]
        sys.meta_path.insert(0, Ban(banned, directory))


class Ban:
    """An import hook, first on ``sys.meta_path``, that refuses banned libraries.

    ``import torch`` (or any ``torch.*``, through ``importlib`` or ``__import__`` alike) raises
    an ImportError naming the ban, unless the student's own folder holds a module of that
    name, which is then what they get (it is their code, not the library). Like the torch
    track's autograd tripwires it runs inside the student's process: code that removes it
    from ``sys.meta_path`` and loads the library by hand is beyond what it can stop.
    """

    def __init__(self, names: frozenset[str], directory: str) -> None:
        self.names, self.directory = names, os.path.realpath(directory)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        top = fullname.partition(".")[0]
        if top not in self.names:
            return None
        if "." not in fullname:
            own = importlib.machinery.PathFinder.find_spec(fullname, [self.directory])
            if own is not None:
                return own
        elif path is not None and all(
                os.path.realpath(str(p)).startswith(self.directory + os.sep) for p in path):
            return None  # inside the student's own package of that name
        raise ImportError(f"{top} is not allowed here: this course bans {top} in student "
                          "code (write the computation yourself)", name=fullname)


class TorchTrack(Track):
    """Tensors in, tensors out, on ``device``; autograd forbidden."""

    name = "torch"
    libraries = ("torch",)

    def __init__(self, device: str) -> None:
        import torch  # preloaded by the warm worker for this track

        self.torch = torch
        self.device = torch.device(device)
        self._watch = _watch_class(torch)
        _arm(torch)

    def incoming(self, value: Any) -> Any:
        torch = self.torch
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return torch.from_numpy(np.array(value, copy=True)).to(self.device)
        if isinstance(value, list):
            return [self.incoming(v) for v in value]
        if isinstance(value, dict):
            return {k: self.incoming(v) for k, v in value.items()}
        return value

    def outgoing(self, value: Any) -> Any:
        torch = self.torch
        if isinstance(value, torch.Tensor):
            if value.requires_grad or value.grad_fn is not None:
                raise AutogradUsed("returned a tensor that requires grad")
            return value.detach().cpu().numpy()
        if isinstance(value, (list, tuple)):
            return [self.outgoing(v) for v in value]
        if isinstance(value, dict):
            return {k: self.outgoing(v) for k, v in value.items()}
        return value

    def call(self, function: Any, args: list, kwargs: dict) -> Any:
        watch = self._watch()
        tripped = len(TRIPPED)
        try:
            # Grad mode off for this thread: a disabled or popped mode still builds no graph.
            with watch, self.torch.no_grad():
                result = function(*args, **kwargs)
        except BaseException:
            self._verdict(watch, tripped, args, kwargs)  # autograd that failed is still used
            raise
        self._verdict(watch, tripped, args, kwargs)
        torch = self.torch
        if _holds_tensor(torch, args) or _holds_tensor(torch, kwargs.values()):
            # Given tensors, a function answers in tensors (Python numbers, loss.item(), are
            # fine). Programs that hand the student numpy values (trajectories) are exempt.
            for answer in result if isinstance(result, (tuple, list)) else (result,):
                if isinstance(answer, (np.ndarray, np.generic)):
                    kind = "a numpy array" if isinstance(answer, np.ndarray) else "a numpy number"
                    raise NotATensor(f"returned {kind}; the torch track expects a torch.Tensor")
        return result


    def _verdict(self, watch: Any, tripped: int, args: list, kwargs: dict) -> None:
        """Raise AutogradUsed if the call used autograd: the mode saw it, the engine's
        tripwire fired (in any thread), or an input now requires grad or holds a gradient."""
        if watch.used:
            raise AutogradUsed(watch.used[0])
        if len(TRIPPED) > tripped:
            raise AutogradUsed(TRIPPED[tripped])
        for value in _tensors(self.torch, [*args, *kwargs.values()]):
            if value.requires_grad or value.grad is not None or value.grad_fn is not None:
                raise AutogradUsed("an input was made to require grad")


#: What the autograd tripwires caught, in every thread of this child (see :func:`_arm`).
TRIPPED: list[str] = []


def _arm(torch: Any) -> None:
    """Make autograd itself refuse to run in this process, whatever thread or torch-function
    mode the student uses: the engine behind ``backward()`` and ``torch.autograd.grad``
    (``Variable._execution_engine``, shared by all threads) and forward-mode AD's
    ``make_dual`` are replaced by tripwires that record the use and raise. (Code that
    patches this module or rebuilds the engine from torch's C internals is beyond what a
    check inside the student's process can stop.)"""
    from torch.autograd.variable import Variable

    engine = Variable._execution_engine
    if isinstance(engine, _Tripwire):
        return
    Variable._execution_engine = _Tripwire(engine, "called backward")
    import torch._functorch.predispatch as predispatch

    def make_dual(*args: Any, **kwargs: Any) -> Any:
        TRIPPED.append("called make_dual")
        raise RuntimeError("autograd is not allowed on the torch track")

    for owner in (torch, torch._VF, predispatch):  # every way forward_ad reaches it
        owner._make_dual = make_dual


class _Tripwire:
    """The autograd engine, as student code sees it: running a backward pass trips."""

    def __init__(self, engine: Any, what: str) -> None:
        self._engine, self._what = engine, what

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        TRIPPED.append(self._what)
        raise RuntimeError("autograd is not allowed on the torch track")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _tensors(torch: Any, values: Any) -> list[Any]:
    """The tensors among ``values`` and the entries of lists, tuples and dicts among them."""
    found = []
    for value in values:
        inner = value.values() if isinstance(value, dict) else (
            value if isinstance(value, (list, tuple)) else (value,))
        found += [v for v in inner if isinstance(v, torch.Tensor)]
    return found


def _holds_tensor(torch: Any, values: Any) -> bool:
    """Whether any of ``values`` (or an entry of a list or dict among them) is a tensor."""
    for value in values:
        inner = value.values() if isinstance(value, dict) else (
            value if isinstance(value, (list, tuple)) else (value,))
        if any(isinstance(v, torch.Tensor) for v in inner):
            return True
    return False


def _watch_class(torch: Any) -> type:
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        """Notes autograd calls, and results that require grad (inputs never do, so such a
        result means the student switched autograd on)."""

        def __init__(self) -> None:
            super().__init__()
            self.used: list[str] = []

        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            name = getattr(func, "__qualname__", getattr(func, "__name__", str(func)))
            if any(word in name for word in ("backward", "requires_grad", "autograd")):
                self.used.append(f"called {name.split('.')[-1]}")
            result = func(*args, **(kwargs or {}))
            if isinstance(result, torch.Tensor) and result.requires_grad and not self.used:
                self.used.append(f"{name.split('.')[-1]} made a tensor that requires grad")
            return result

    return Watch


def make(config: dict[str, Any] | None) -> Track:
    """The track a child's config asks for (``{"name": "torch", "device": "cpu"}``; its
    ``banned`` list is applied by :meth:`Track.ban` once the child knows its folder)."""
    if not config or config.get("name", "numpy") == "numpy":
        return Track()
    if "torch" not in sys.modules and config.get("name") == "torch":
        import torch  # noqa: F401 - a cold child imports it here
    return TorchTrack(str(config.get("device", "cpu")))
