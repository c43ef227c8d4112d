import math

import pytest

from aiaas_lib.exercises import nb07_computer_vision as ex
from aiaas_lib import vision
from _feedback import run_check as _run


def _conv_right(n, k, s, padding):
    return (n - k) // s + 1 if padding == "valid" else math.ceil(n / s)


def test_conv_output_size_right(capsys):
    assert _run(capsys, ex.check_conv_output_size, _conv_right)[0]
    assert _run(capsys, ex.check_conv_output_size, vision.conv_output_size)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda n, k, s, p: (n - k) // s if p == "valid" else math.ceil(n / s), "one short"),
    (lambda n, k, s, p: n - k + 1 if p == "valid" else math.ceil(n / s), "ignores the stride"),
    (lambda n, k, s, p: _conv_right(n, k, s, p) if p == "valid" else n, "keeps the size only when s = 1"),
    (lambda n, k, s, p: _conv_right(n, k, s, p) if p == "valid" else n // s, "rounds up"),
    (lambda n, k, s, p: 99, "expected 26, got 99"),
    (lambda n, k, s, p: None, "returns None"),
    (lambda n, k: 1, "could not check"),
])
def test_conv_output_size_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_conv_output_size, func)
    assert not ok and hint in out


def test_conv_output_size_no_answer(capsys):
    ok, out = _run(capsys, ex.check_conv_output_size, None)
    assert not ok and "no answer yet" in out


def _iou_parts(a, b):
    h = min(a[2], b[2]) - max(a[0], b[0])
    w = min(a[3], b[3]) - max(a[1], b[1])
    return h, w, (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])


def _iou_right(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    inter = max(h, 0) * max(w, 0)
    return inter / (area_a + area_b - inter)


def test_iou_right(capsys):
    assert _run(capsys, ex.check_iou, _iou_right)[0]
    assert _run(capsys, ex.check_iou, vision.iou)[0]


def _no_clip(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    return h * w / (area_a + area_b - h * w)


def _double_count(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    inter = max(h, 0) * max(w, 0)
    return inter / (area_a + area_b)


def _intersection_only(a, b):
    h, w, _, _ = _iou_parts(a, b)
    return max(h, 0) * max(w, 0)


@pytest.mark.parametrize("func, hint", [
    (_no_clip, "clip the overlap"),
    (_double_count, "counts the overlap twice"),
    (_intersection_only, "intersection's area"),
    (lambda a, b: 0.7, "should be 1.0000, got 0.7000"),
    (lambda a, b: None, "returns None"),
    (lambda a: 1.0, "could not check"),
])
def test_iou_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_iou, func)
    assert not ok and hint in out
