"""Exercise checks of notebook 07 (computer vision): used by notebooks/07_computer_vision.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_conv_output_size(func: Callable) -> tuple[bool, str]:
    """Exercise 07.1: ``func(size, kernel_size, stride, padding)`` returns the output length of a
    convolution along one axis, as ``keras.layers.Conv2D`` computes it (``padding`` "valid" or "same").

    Examples
    --------
    >>> import math
    >>> def out_size(n, k, s, padding):
    ...     return (n - k) // s + 1 if padding == "valid" else math.ceil(n / s)
    >>> check_conv_output_size(out_size)
    ✓ output sizes right: valid = ⌊(n − k)/s⌋ + 1, same = ⌈n/s⌉
    True
    """
    cases = [(28, 3, 1, "valid"), (28, 5, 2, "valid"), (64, 3, 2, "valid"), (7, 2, 3, "valid"),
             (28, 3, 1, "same"), (28, 3, 2, "same"), (7, 2, 3, "same"), (64, 5, 4, "same"),
             (28, 2, 1, "same"), (6, 2, 3, "same")]  # even kernels: 'same' pads unevenly
    for n, k, s, padding in cases:
        want = (n - k) // s + 1 if padding == "valid" else -(-n // s)
        got = func(n, k, s, padding)
        if got is None:
            return False, "your function returns None: return the output size as an int"
        case = f"size {n}, kernel {k}, stride {s}, padding={padding!r}"
        if float(got) != int(got):  # (n - k) / s + 1 without the floor: int() would hide it by truncating
            return False, (f"{case}: {got} is not a whole number of positions; "
                           + ("floor: use // (integer division), ⌊(n − k)/s⌋ + 1" if padding == "valid"
                              else "'same' rounds up: ⌈n/s⌉, in integers -(-n // s) or math.ceil(n / s)"))
        got = int(got)
        if got == want:
            continue
        if padding == "valid" and got == (n - k) // s:
            return False, f"{case}: {got} is one short; count the first window too: ⌊(n − k)/s⌋ + 1"
        if padding == "valid" and got == n - k + 1:
            return False, f"{case}: {got} ignores the stride; the window moves s pixels per step"
        if padding == "same" and got == n:
            return False, f"{case}: {got} ignores the stride; 'same' keeps the size only when s = 1: ⌈n/s⌉"
        if padding == "same" and k % 2 == 0 and got == (n + 2 * (k // 2) - k) // s + 1:
            return False, (f"{case}: {got} pads k//2 pixels on both sides, right for odd kernels only; an even "
                           "kernel needs k − 1 pixels of padding in all, split unevenly (the extra one at the "
                           "bottom/right), so the output is ⌈n/s⌉ whatever k")
        if padding == "same" and got == n // s:
            return False, f"{case}: {got} rounds down; 'same' rounds up: ⌈n/s⌉"
        return False, f"{case}: expected {want}, got {got}"
    return True, "output sizes right: valid = ⌊(n − k)/s⌋ + 1, same = ⌈n/s⌉"


def _iou_ref(a, b, plus_one: bool = False, clip: bool = True, union_minus: bool = True, divide: bool = True):
    """IoU of two boxes, or one of its typical wrong versions (to name the mistake in a hint)."""
    e = 1 if plus_one else 0
    h = min(a[2], b[2]) - max(a[0], b[0]) + e
    w = min(a[3], b[3]) - max(a[1], b[1]) + e
    if clip:
        h, w = max(h, 0), max(w, 0)
    inter = h * w
    if not divide:
        return inter
    area_a = (a[2] - a[0] + e) * (a[3] - a[1] + e)
    area_b = (b[2] - b[0] + e) * (b[3] - b[1] + e)
    return inter / (area_a + area_b - (inter if union_minus else 0))


def _random_box(rng, size: int = 20) -> list[int]:
    y0, x0 = rng.integers(0, size - 2, size=2)
    return [int(y0), int(x0), int(y0 + rng.integers(1, size // 2)), int(x0 + rng.integers(1, size // 2))]


@exercise
def check_iou(func: Callable) -> tuple[bool, str]:
    """Exercise 07.2: ``func(box_a, box_b)`` returns the intersection over union of two boxes
    ``(y0, x0, y1, x1)`` (end exclusive) as a float; checked on fresh random boxes every call.

    Examples
    --------
    >>> from aiaas_lib.vision import iou
    >>> check_iou(iou)
    ✓ IoU right on 40 fresh pairs of boxes: intersection (clipped at 0) / (area A + area B − intersection)
    True
    """
    rng = np.random.default_rng()  # fresh boxes at every call: the answer cannot be fitted to fixed cases
    cases = [([0, 0, 4, 4], [0, 0, 4, 4]), ([0, 0, 2, 2], [5, 5, 8, 9]), ([0, 0, 4, 4], [1, 1, 3, 3])]
    cases += [(_random_box(rng), _random_box(rng)) for _ in range(37)]
    for a, b in cases:
        want = _iou_ref(a, b)
        got = func(list(a), list(b))
        if got is None:
            return False, "your function returns None: return the IoU as a float"
        got = float(got)
        if np.isclose(got, want):
            continue
        if np.isclose(got, _iou_ref(a, b, clip=False)):
            return False, (f"boxes {a} and {b} do not overlap but you get {got:.3f}: clip the overlap's height "
                           "and width at 0 before multiplying (two negatives make a positive area)")
        if np.isclose(got, _iou_ref(a, b, plus_one=True)):
            return False, (f"iou({a}, {b}): you get {got:.4f}, not {want:.4f}; the boxes are end-exclusive, so a "
                           "box is x1 − x0 wide, not x1 − x0 + 1 (off by one)")
        if np.isclose(got, _iou_ref(a, b, union_minus=False)):
            return False, "the union counts the overlap twice: subtract the intersection from area A + area B"
        if np.isclose(got, _iou_ref(a, b, divide=False)):
            return False, "that is the intersection's area; divide it by the union's area"
        return False, f"iou({a}, {b}) should be {want:.4f}, got {got:.4f}"
    return True, (f"IoU right on {len(cases)} fresh pairs of boxes: intersection (clipped at 0) / "
                  "(area A + area B − intersection)")


def _greedy(scores: np.ndarray, threshold: float, by_row: bool = False, ascending: bool = False,
            unique: bool = True, strict: bool = False) -> set[tuple[int, int]]:
    """Greedy matching, or one of its typical wrong versions (to name the mistake in a hint)."""
    pairs, used_r, used_c = set(), set(), set()
    if strict:  # IoU > threshold instead of >=
        return {(r, c) for r, c in _greedy(scores, threshold) if scores[r, c] > threshold}
    if by_row:  # each track in turn takes its best free detection
        for r in range(scores.shape[0]):
            free = [c for c in range(scores.shape[1]) if c not in used_c and scores[r, c] >= threshold]
            if free:
                c = max(free, key=lambda c: scores[r, c])
                pairs.add((r, c))
                used_c.add(c)
        return pairs
    order = np.argsort(scores if ascending else -scores, axis=None, kind="stable")
    for r, c in zip(*np.unravel_index(order, scores.shape)):
        r, c = int(r), int(c)
        if scores[r, c] >= threshold and (not unique or (r not in used_r and c not in used_c)):
            pairs.add((r, c))
            used_r.add(r)
            used_c.add(c)
    return pairs


def _pairs(got) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in (np.asarray(got).reshape(-1, 2) if len(got) else [])}


@exercise
def check_greedy_match(func: Callable) -> tuple[bool, str]:
    """Exercise 07.3: ``func(scores, threshold)`` matches tracks (rows of an IoU matrix) to detections
    (columns) greedily — the highest IoU first, each track and each detection at most once, a pair only
    when its IoU is at least ``threshold`` — and returns the ``(row, column)`` pairs; checked on fresh
    random matrices every call.

    Examples
    --------
    >>> import numpy as np
    >>> def greedy(scores, threshold):
    ...     pairs, rows, cols = [], set(), set()
    ...     for flat in np.argsort(-scores, axis=None):
    ...         r, c = np.unravel_index(flat, scores.shape)
    ...         if scores[r, c] >= threshold and r not in rows and c not in cols:
    ...             pairs.append((r, c)); rows.add(r); cols.add(c)
    ...     return pairs
    >>> check_greedy_match(greedy)
    ✓ greedy matching right on 31 fresh IoU matrices: best pair first, each row and column once, IoU >= threshold
    True
    """
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng()
    threshold = 0.3
    cases = [np.array([[0.9, 0.8, 0.4], [0.8, 0.1, 0.0]]),  # greedy and Hungarian differ here
             np.array([[0.6, 0.5], [0.9, 0.1]]),  # greedy and track-by-track differ here
             np.array([[0.3, 0.1], [0.0, 0.8]])]  # an IoU exactly at the threshold counts
    for _ in range(28):
        shape = tuple(rng.integers(1, 6, size=2))
        cases.append(rng.uniform(size=shape) * (rng.uniform(size=shape) < 0.7))  # no ties above 0
    for scores in cases:
        want = _greedy(scores, threshold)
        got = func(scores.copy(), threshold)
        if got is None:
            return False, "your function returns None: return a list of (row, column) pairs"
        got = _pairs(list(got))
        if got == want:
            continue
        shown = np.array2string(scores, precision=2, separator=", ").replace("\n", "")
        rows, cols = [r for r, _ in got], [c for _, c in got]
        if len(set(rows)) < len(rows) or len(set(cols)) < len(cols):
            return False, (f"on scores {shown} a track or a detection is matched twice: once a pair is "
                           "taken, skip every other pair in its row and its column")
        if got == _greedy(scores, 0.0) or any(scores[r, c] < threshold for r, c in got):
            return False, (f"on scores {shown} you keep a pair below the threshold {threshold}: a match counts "
                           "only when its IoU >= threshold (else the detection starts a new track)")
        if got == _greedy(scores, threshold, strict=True):
            return False, (f"on scores {shown} you drop a pair whose IoU equals the threshold {threshold}: keep "
                           "it when IoU >= threshold (not >)")
        if got == _greedy(scores, threshold, by_row=True):
            return False, (f"on scores {shown} you go track by track; greedy goes by the highest IoU in the "
                           "whole matrix first (sort all entries, descending)")
        if got == _greedy(scores, threshold, ascending=True):
            return False, f"on scores {shown} you start from the lowest IoU; sort descending: best pair first"
        r_h, c_h = linear_sum_assignment(-scores)
        if got == {(int(r), int(c)) for r, c in zip(r_h, c_h) if scores[r, c] >= threshold}:
            return False, (f"on scores {shown} that is the Hungarian assignment (largest total IoU); greedy "
                           "takes the single best pair first, then the best of what is left")
        return False, f"on scores {shown} the pairs should be {sorted(want)}, got {sorted(got)}"
    return True, (f"greedy matching right on {len(cases)} fresh IoU matrices: best pair first, each row and "
                  "column once, IoU >= threshold")
