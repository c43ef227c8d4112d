"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Two plots for explanations: one row's attributions as bars, and deletion curves side by side.
Both draw on a matplotlib ``Axes`` (a new one when ``ax`` is None) and return it; nothing is saved."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def plot_attributions(values, names: Sequence[str], ax=None, title: str = "Attributions", top: int | None = None,
                      xlabel: str = "attribution (change of the model output)"):
    """Horizontal bars of one row's attributions, largest |value| at the top; red pushes up, blue down.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_attributions([0.2, -0.1, 0.05], ["tenure", "contract", "charges"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['charges', 'contract', 'tenure']
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(f"values have shape {values.shape} but there are {len(names)} names; "
                         "give one row (n_features,) and one name per feature")
    order = np.argsort(-np.abs(values), kind="stable")[: top or len(values)][::-1]
    ax = _axes(ax, (6, 0.3 * len(order) + 1.2))
    ax.barh(np.arange(len(order)), values[order], color=["#d62728" if v > 0 else "#1f77b4" for v in values[order]])
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax


def plot_deletion(curves: Mapping[str, Sequence[float]], ax=None, title: str = "Deletion curves",
                  ylabel: str = "model output"):
    """One line per method: the output as its most important features are removed (steeper = more faithful).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_deletion({"shap": [0.9, 0.5, 0.3], "random": [0.9, 0.8, 0.3]})
    >>> len(ax.get_lines())
    2
    """
    if not curves:
        raise ValueError("curves is empty; give {method name: outputs after 0, 1, 2, ... removals}")
    ax = _axes(ax, (6, 4))
    for label, curve in curves.items():
        ax.plot(np.arange(len(curve)), np.asarray(curve, dtype=np.float64), marker="o", label=label)
    ax.set_xlabel("features removed (most important first)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax
