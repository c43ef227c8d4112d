"""Shared by the exercise-check tests: run a check_* function and capture its one line of feedback."""
from aiaas_lib.exercises.feedback import FAIL, PASS


def run_check(capsys, check, *args, **kwargs):
    """Call ``check``; assert it printed exactly one ✓/✗ line matching its result; return (ok, line)."""
    ok = check(*args, **kwargs)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    assert out.startswith(PASS if ok else FAIL)
    return ok, out
