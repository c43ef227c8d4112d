"""Imported by every notebook (00–17), the CLI/service and the tests.

aiaas_lib — the small library behind the course *AI models as a service*.

``import aiaas_lib`` is fast: it imports no TensorFlow, shap or lime. Each module imports what it needs.
Importing it also quiets TensorFlow's C++ logging (see :mod:`aiaas_lib.config`), so a notebook that
imports ``aiaas_lib`` first shows no log noise.
"""
__version__ = "0.1.0"

from aiaas_lib import config as config  # noqa: E402,F401  (sets the TF log level before anything imports TF)
