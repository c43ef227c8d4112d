"""The conformance kit: grade any HTTP model server by base URL against what its protocols promise.
Used by notebook 12 (the learner's own FastAPI app, then ``aiaas serve``) and by the CLI,
``aiaas conformance http://host:port [--model NAME] ...`` (:mod:`.cli`).

Three protocols, one module each, every check citing the rule it ports:

- :mod:`.tfserving`: TensorFlow Serving's REST API (status, metadata, row and columnar predict, errors);
- :mod:`.oip`: the Open Inference Protocol / KServe V2 (health, server and model metadata, infer, errors);
- :mod:`.openai_api`: the OpenAI API (models, completions, chat, streaming, logprobs, ``n``,
  ``include_usage``, embeddings, errors).

:func:`run` detects which protocols a server speaks (skipping the others with the reason), runs their
checks and returns a :class:`Report`: ``report.table()`` prints pass/fail per protocol, ``report.ok`` is
False on any failure. Options turn on the checks of the course's hardening: ``api_key`` (401 without it,
in the protocol's error shape) and ``max_body_bytes`` (413 one byte over the limit).

>>> from aiaas_lib.conformance import CHECKS
>>> sorted({c.protocol for c in CHECKS.values()})
['oip', 'openai', 'tfserving']
"""

from aiaas_lib.conformance.core import CHECKS, PROTOCOLS, Check, Context, Failure, Skip
from aiaas_lib.conformance.runner import Report, Result, run

__all__ = ["run", "Report", "Result", "CHECKS", "PROTOCOLS", "Check", "Context", "Failure", "Skip"]
