"""aiaas_lib.validation: one rule per test; every error names the value and what is allowed."""
import numpy as np
import pytest

from aiaas_lib import validation as v


def test_integer_accepts_python_and_numpy_ints_and_returns_int():
    assert v.integer("n", np.int64(3)) == 3 and type(v.integer("n", np.int64(3))) is int
    assert v.integer("k", 0, low=0) == 0 and v.integer("k", 20, 0, 20) == 20


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, None])
def test_positive_int_rejects_non_counts(value):
    with pytest.raises(ValueError, match=rf"^epochs={value!r} must be an integer >= 1$"):
        v.positive_int("epochs", value)


def test_integer_names_a_closed_range():
    with pytest.raises(ValueError, match=r"top_logprobs=21 must be an integer in \[0, 20\]"):
        v.integer("top_logprobs", 21, 0, 20)


@pytest.mark.parametrize("check, value, message", [
    (v.positive_number, 0, r"lr=0 must be a number > 0"),
    (v.positive_number, float("nan"), r"lr=nan must be a number > 0"),
    (v.non_negative, -0.1, r"lr=-0.1 must be a number >= 0"),
    (v.non_negative, "0.1", r"lr='0.1' must be a number >= 0"),
    (v.in_unit_interval, 1.0, r"lr=1.0 must be a number in \[0, 1\)"),
    (v.in_unit_interval, True, r"lr=True must be a number in \[0, 1\)"),
])
def test_number_checks_name_value_and_allowed_range(check, value, message):
    with pytest.raises(ValueError, match=message):
        check("lr", value)


def test_number_returns_float_and_describes_open_and_closed_ends():
    assert v.number("t", np.float32(0.5), 0, 2) == 0.5
    with pytest.raises(ValueError, match=r"top_p=0 must be a number in \(0, 1\]"):
        v.number("top_p", 0, 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r"x=3 must be a number < 3"):
        v.number("x", 3, high=3, high_open=True)


def test_file_sha256_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 9000)  # > 1 MiB: more than one chunk
    assert v.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
