"""Samantha: a self-hosted AI companion operating system.

Layers, imported only downwards: interfaces (``cli``, ``web``) → os (``auth``) → mind
(``turn``, ``persona``, ``mood``) → memory → backends (``llm``, ``store``).
"""

__version__ = "0.1.0"
