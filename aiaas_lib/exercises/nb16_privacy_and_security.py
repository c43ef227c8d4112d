"""Exercise checks of notebook 16 (privacy and security): used by notebooks/16_privacy_and_security.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 16.1: three clients' weights (one tensor of 2 numbers each) and their numbers of examples.
FEDAVG = {"weights": ((1.0, 2.0), (3.0, 0.0), (5.0, 4.0)), "sizes": (10, 30, 60)}
#: Exercise 16.2: one example's gradient and the clipping norm C.
CLIP = {"gradient": (6.0, -8.0, 0.0), "clip_norm": 2.5}
#: Exercise 16.3: pixels, the loss gradient at them, and the budget ε.
FGSM = {"x": (0.5, 0.97, 0.02, 0.3), "gradient": (0.8, 0.01, -3.0, 0.0), "eps": 0.05}


def _vector(answer, n: int) -> np.ndarray | str:
    """The answer as a float vector of length ``n``, or a message saying why not."""
    arr = np.asarray(answer, dtype="float64").ravel()
    if arr.size != n:
        return f"expected {n} numbers, got {arr.size}"
    return arr


@exercise
def check_fedavg(answer) -> tuple[bool, str]:
    """Exercise 16.1: the FedAvg of ``FEDAVG["weights"]`` with client sizes ``FEDAVG["sizes"]``.

    Examples
    --------
    >>> check_fedavg([4.0, 2.6])
    ✓ [4.0, 2.6]: each client weighted by n_k / n = 0.1, 0.3, 0.6
    True
    """
    w, n = np.array(FEDAVG["weights"]), np.array(FEDAVG["sizes"], dtype="float64")
    got = _vector(answer, w.shape[1])
    if isinstance(got, str):
        return False, got + " (one averaged value per weight)"
    right = (n[:, None] * w).sum(axis=0) / n.sum()
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: each client weighted by n_k / n = 0.1, 0.3, 0.6"
    if np.allclose(got, w.mean(axis=0)):
        return False, "that is the plain mean; FedAvg weights each client by its number of examples n_k / n"
    if np.allclose(got, (n[:, None] * w).sum(axis=0)):
        return False, "that is Σ n_k w_k; divide by n = Σ n_k so the weights sum to 1"
    if np.allclose(got, (n[::-1, None] * w).sum(axis=0) / n.sum()):
        return False, "the sizes are matched to the wrong clients: client k's weights go with sizes[k]"
    return False, f"{np.round(got, 4).tolist()} is not it; compute Σ_k (n_k / n) · w_k, element by element"


@exercise
def check_clip(answer) -> tuple[bool, str]:
    """Exercise 16.2: ``CLIP["gradient"]`` clipped to L2 norm at most ``CLIP["clip_norm"]`` (DP-SGD).

    Examples
    --------
    >>> check_clip([1.5, -2.0, 0.0])
    ✓ [1.5, -2.0, 0.0]: norm 10 scaled by C / 10 = 0.25, direction kept
    True
    """
    g, c = np.array(CLIP["gradient"]), CLIP["clip_norm"]
    got = _vector(answer, g.size)
    if isinstance(got, str):
        return False, got
    norm = np.linalg.norm(g)
    right = g * min(1.0, c / norm)
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: norm {norm:g} scaled by C / {norm:g} = {c / norm:g}, direction kept"
    if np.allclose(got, np.clip(g, -c, c)):
        return False, "that clips each element to [-C, C], which changes the direction; scale the whole vector by C / ‖g‖"
    if np.allclose(got, g / norm):
        return False, "that is the unit vector g / ‖g‖ (norm 1); the clipped gradient has norm C"
    if np.allclose(got, g):
        return False, f"‖g‖ = {norm:g} > C = {c}, so the gradient must shrink"
    return False, f"{np.round(got, 4).tolist()} is not it; compute g · min(1, C / ‖g‖₂)"


@exercise
def check_fgsm_step(answer) -> tuple[bool, str]:
    """Exercise 16.3: the FGSM image for ``FGSM``: x + ε·sign(gradient), clipped to [0, 1].

    Examples
    --------
    >>> check_fgsm_step([0.55, 1.0, 0.0, 0.3])
    ✓ [0.55, 1.0, 0.0, 0.3]: every pixel moved by ε in the loss-increasing direction, kept in [0, 1]
    True
    """
    x, g, eps = np.array(FGSM["x"]), np.array(FGSM["gradient"]), FGSM["eps"]
    got = _vector(answer, x.size)
    if isinstance(got, str):
        return False, got + " (one value per pixel)"
    right = np.clip(x + eps * np.sign(g), 0, 1)
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: every pixel moved by ε in the loss-increasing direction, kept in [0, 1]"
    if np.allclose(got, np.clip(x - eps * np.sign(g), 0, 1)):
        return False, "that step lowers the loss (gradient descent); the attack goes up the gradient: x + ε·sign(g)"
    if np.allclose(got, x + eps * np.sign(g)):
        return False, "pixels must stay in [0, 1]: clip the result"
    if np.allclose(got, np.clip(x + eps * g, 0, 1)):
        return False, "FGSM uses the sign of the gradient, not its size: every pixel moves by exactly ε (or 0)"
    return False, f"{np.round(got, 4).tolist()} is not it; compute clip(x + ε·sign(g), 0, 1)"
