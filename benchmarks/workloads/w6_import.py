"""W6: import time. Each sample is a fresh interpreter (``python -c``) that times ``import numpy`` and
then, in the same process, the import of the library on top of it; "on top of numpy" is the second
number, i.e. the library's own import cost once numpy is loaded (total minus numpy alone). The numpy
row is ``import numpy`` alone. Peers are timed the same way for context (torch and jax load numpy
too; micrograd does not need it).
"""

from __future__ import annotations

IMPLS = ("tinygrad_nn", "numpy", "micrograd", "torch", "jax")
MODULE = {"tinygrad_nn": "tinygrad_nn", "numpy": None, "micrograd": "micrograd.nn", "torch": "torch", "jax": "jax"}

CODE = """
import json, resource, sys, time
c = time.perf_counter
t0 = c(); import numpy; t1 = c()
try:
    {imp}
except ImportError as e:
    print("BENCH_JSON:" + json.dumps({{"skip": f"import failed: {{e.__class__.__name__}}: {{e}}"}}))
    sys.exit(0)
t2 = c()
print("BENCH_JSON:" + json.dumps({{"numpy": t1 - t0, "lib": t2 - t1,
      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}}))
"""


def code_for(impl: str) -> str:
    mod = MODULE[impl]
    return CODE.format(imp=f"import {mod}" if mod else "pass")
