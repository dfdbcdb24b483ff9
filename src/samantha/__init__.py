"""Samantha: a self-hosted AI companion operating system.

Layers, imported only downwards: interfaces (``cli``, ``web``) → os (``auth``) → mind
(``turn``, ``persona``, ``mood``) → memory → backends (``llm``, ``store``).
"""

import os

__version__ = "0.1.0"

# NumPy's OpenBLAS starts a thread per core when NumPy is first imported, shares any large
# product with them (dense recall's over a long history is one), and they spin for a while
# after each. In a recall that is a core burnt while SQLite and the embedder wait for it:
# at 10,000 turns 30 ms of CPU wasted a recall and p50/p99 latency up by a fifth
# (``bench memory --scale``). So one thread, unless the operator asked for more; it must be
# said before NumPy is imported, hence here, and worker processes inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
