import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

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
    (lambda n, k, s, p: _conv_right(n, k, s, p) if p == "valid" else (n + 2 * (k // 2) - k) // s + 1,
     "split unevenly"),
    (lambda n, k, s, p: (n - k) / s + 1 if p == "valid" else math.ceil(n / s), "floor: use //"),
    (lambda n, k, s, p: _conv_right(n, k, s, p) if p == "valid" else n / s, "rounds up"),
    (lambda n, k, s, p: 99, "expected 26, got 99"),
    (lambda n, k, s, p: None, "returns None"),
    (lambda n, k: 1, "could not check"),
])
def test_conv_output_size_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_conv_output_size, func)
    assert not ok and hint in out


def test_conv_output_size_accepts_whole_floats(capsys):
    assert _run(capsys, ex.check_conv_output_size, lambda n, k, s, p: float(_conv_right(n, k, s, p)))[0]


def test_conv_output_size_no_answer(capsys):
    ok, out = _run(capsys, ex.check_conv_output_size, None)
    assert not ok and "no answer yet" in out


def _iou_parts(a, b, e=0):
    h = min(a[2], b[2]) - max(a[0], b[0]) + e
    w = min(a[3], b[3]) - max(a[1], b[1]) + e
    return h, w, (a[2] - a[0] + e) * (a[3] - a[1] + e), (b[2] - b[0] + e) * (b[3] - b[1] + e)


def _iou_right(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    inter = max(h, 0) * max(w, 0)
    return inter / (area_a + area_b - inter)


def test_iou_right(capsys):
    for _ in range(5):  # fresh boxes at every call
        assert _run(capsys, ex.check_iou, _iou_right)[0]
    assert _run(capsys, ex.check_iou, vision.iou)[0]


def _no_clip(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    return h * w / (area_a + area_b - h * w)


def _off_by_one(a, b):
    h, w, area_a, area_b = _iou_parts(a, b, e=1)
    inter = max(h, 0) * max(w, 0)
    return inter / (area_a + area_b - inter)


def _double_count(a, b):
    h, w, area_a, area_b = _iou_parts(a, b)
    inter = max(h, 0) * max(w, 0)
    return inter / (area_a + area_b)


def _intersection_only(a, b):
    h, w, _, _ = _iou_parts(a, b)
    return max(h, 0) * max(w, 0)


@pytest.mark.parametrize("func, hint", [
    (_no_clip, "clip the overlap"),
    (_off_by_one, "off by one"),
    (_double_count, "counts the overlap twice"),
    (_intersection_only, "intersection's area"),
    (lambda a, b: 0.7, "should be 1.0000, got 0.7000"),
    (lambda a, b: None, "returns None"),
    (lambda a: 1.0, "could not check"),
])
def test_iou_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_iou, func)
    assert not ok and hint in out


def _greedy(scores, threshold, by_row=False, ascending=False, unique=True, use_threshold=True, strict=False):
    pairs, rows, cols = [], set(), set()
    if strict:
        return [(r, c) for r, c in _greedy(scores, threshold) if scores[r, c] > threshold]
    if by_row:
        for r in range(scores.shape[0]):
            free = [c for c in range(scores.shape[1]) if c not in cols and scores[r, c] >= threshold]
            if free:
                c = max(free, key=lambda c: scores[r, c])
                pairs.append((r, c))
                cols.add(c)
        return pairs
    for flat in np.argsort(scores if ascending else -scores, axis=None):
        r, c = np.unravel_index(flat, scores.shape)
        if (scores[r, c] >= threshold or not use_threshold) and (not unique or (r not in rows and c not in cols)):
            pairs.append((r, c))
            rows.add(r)
            cols.add(c)
    return pairs


def _hungarian(scores, threshold):
    r, c = linear_sum_assignment(-scores)
    return [(i, j) for i, j in zip(r, c) if scores[i, j] >= threshold]


def test_greedy_match_right(capsys):
    for _ in range(5):  # fresh matrices at every call
        assert _run(capsys, ex.check_greedy_match, _greedy)[0]
    assert _run(capsys, ex.check_greedy_match, lambda s, t: np.array(_greedy(s, t)).reshape(-1, 2))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda s, t: _greedy(s, t, use_threshold=False), "below the threshold"),
    (lambda s, t: _greedy(s, t, unique=False), "matched twice"),
    (_hungarian, "Hungarian"),
    (lambda s, t: _greedy(s, t, strict=True), "equals the threshold"),
    (lambda s, t: _greedy(s, t, by_row=True), "track by track"),
    (lambda s, t: _greedy(s, t, ascending=True), "start from the lowest"),
    (lambda s, t: [], "the pairs should be"),
    (lambda s, t: None, "returns None"),
    (lambda s: [], "could not check"),
])
def test_greedy_match_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_greedy_match, func)
    assert not ok and hint in out


def test_greedy_match_no_answer(capsys):
    ok, out = _run(capsys, ex.check_greedy_match, None)
    assert not ok and "no answer yet" in out
