"""tinygrad_nn.jit: record a training step once, then run it as straight-line numpy (docs/jit.md).

Files, in the order a call goes through them: `api.py` (the decorator, its per-signature cache), `recorder.py`
(the hooks the engine calls while recording), `backward.py` (a backward pass, recorded), `ir.py` (what a
recording is), `codegen.py` (the recording as Python source), `emit.py` (numpy with `out=` into buffers planned
once), `check.py` (check=True: every replay compared with eager).
"""

from .api import JitError, JitWarning, Jitted, jit

__all__ = ["jit", "Jitted", "JitError", "JitWarning"]
