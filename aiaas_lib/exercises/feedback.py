"""The one ``exercise`` decorator every checker in ``aiaas_lib.exercises`` uses (notebooks 00-17).

Every ``check_*`` function prints one clear line — ``✓`` and what was right, or ``✗`` and a hint — and
returns True or False. It never raises on a wrong answer, whatever its type: a learner's mistake is
feedback, not a traceback. Worked solutions are in ``notebooks/solutions/`` (CI runs them).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

PASS, FAIL = "✓", "✗"


def _feedback(ok: bool, message: str) -> bool:
    """Print one ✓/✗ line and return ``ok``."""
    print(f"{PASS if ok else FAIL} {message}")
    return ok


def exercise(func: Callable[..., tuple[bool, str]]) -> Callable[..., bool]:
    """Turn ``func(answer) -> (ok, message)`` into a checker that prints feedback and never raises."""

    @wraps(func)
    def checker(*args, **kwargs) -> bool:
        if args and args[0] is None:
            return _feedback(False, "no answer yet: replace None with your answer and run the cell again")
        try:
            ok, message = func(*args, **kwargs)
        except Exception as err:  # a malformed answer is feedback too
            ok, message = False, f"could not check this answer ({type(err).__name__}: {err}); see the exercise text"
        return _feedback(bool(ok), message)

    return checker
