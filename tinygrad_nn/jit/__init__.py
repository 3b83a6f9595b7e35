"""tinygrad_nn.jit: record a training step once, then run it as straight-line numpy (docs/jit.md).

The module itself is the decorator: `@tinygrad_nn.jit` (or `tinygrad_nn.jit.jit(fn, check=True)`).

Files, in the order a call goes through them: `api.py` (the decorator and its per-signature cache),
`recorder.py` (the hooks the engine calls while recording), `backward.py` (a backward pass, recorded), `ir.py`
(what a recording is), `verify.py` (the second call, checked against the recording), `build.py` (the program
made a slice per call), `codegen.py` (the recording as Python source), `emit.py` (numpy with `out=` into buffers
planned once), `check.py` (check=True: every replay compared with eager).
"""

import sys
import types

from .api import JitError, Jitted, JitWarning, jit
from .recorder import recorded

__all__ = ["jit", "Jitted", "JitError", "JitWarning", "recorded"]


class _CallableModule(types.ModuleType):
    """`tinygrad_nn.jit(fn)` is `tinygrad_nn.jit.jit(fn)`."""

    def __call__(self, fn=None, **options):
        return jit(fn, **options)


sys.modules[__name__].__class__ = _CallableModule
