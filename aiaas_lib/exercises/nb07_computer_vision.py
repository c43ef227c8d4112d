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
             (28, 3, 1, "same"), (28, 3, 2, "same"), (7, 2, 3, "same"), (64, 5, 4, "same")]
    for n, k, s, padding in cases:
        want = (n - k) // s + 1 if padding == "valid" else -(-n // s)
        got = func(n, k, s, padding)
        if got is None:
            return False, "your function returns None: return the output size as an int"
        got = int(got)
        if got == want:
            continue
        case = f"size {n}, kernel {k}, stride {s}, padding={padding!r}"
        if padding == "valid" and got == (n - k) // s:
            return False, f"{case}: {got} is one short; count the first window too: ⌊(n − k)/s⌋ + 1"
        if padding == "valid" and got == n - k + 1:
            return False, f"{case}: {got} ignores the stride; the window moves s pixels per step"
        if padding == "same" and got == n:
            return False, f"{case}: {got} ignores the stride; 'same' keeps the size only when s = 1: ⌈n/s⌉"
        if padding == "same" and got == n // s:
            return False, f"{case}: {got} rounds down; 'same' rounds up: ⌈n/s⌉"
        return False, f"{case}: expected {want}, got {got}"
    return True, "output sizes right: valid = ⌊(n − k)/s⌋ + 1, same = ⌈n/s⌉"


@exercise
def check_iou(func: Callable) -> tuple[bool, str]:
    """Exercise 07.2: ``func(box_a, box_b)`` returns the intersection over union of two boxes
    ``(y0, x0, y1, x1)`` as a float.

    Examples
    --------
    >>> from aiaas_lib.vision import iou
    >>> check_iou(iou)
    ✓ IoU right: 1 for the same box, 0 when apart, intersection / (area A + area B − intersection)
    True
    """
    cases = [([0, 0, 4, 4], [0, 0, 4, 4], 1.0), ([0, 0, 4, 4], [0, 2, 4, 6], 8 / 24),
             ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16), ([0, 0, 2, 2], [5, 5, 8, 9], 0.0),
             ([2, 0, 6, 3], [0, 1, 3, 7], 2 / 28)]
    for a, b, want in cases:
        got = func(list(a), list(b))
        if got is None:
            return False, "your function returns None: return the IoU as a float"
        got = float(got)
        if np.isclose(got, want):
            continue
        ha, wa, hb, wb = a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1]
        h = min(a[2], b[2]) - max(a[0], b[0])
        w = min(a[3], b[3]) - max(a[1], b[1])
        if want == 0 and got != 0:
            return False, (f"boxes {a} and {b} do not overlap but you get {got:.3f}: clip the overlap's height "
                           "and width at 0 before multiplying")
        if want > 0 and np.isclose(got, h * w / (ha * wa + hb * wb)):
            return False, "the union counts the overlap twice: subtract the intersection from area A + area B"
        if want > 0 and np.isclose(got, h * w):
            return False, "that is the intersection's area; divide it by the union's area"
        return False, f"iou({a}, {b}) should be {want:.4f}, got {got:.4f}"
    return True, "IoU right: 1 for the same box, 0 when apart, intersection / (area A + area B − intersection)"
