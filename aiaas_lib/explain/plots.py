"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

One plot for explanations: one row's attributions as bars.
It draws on a matplotlib ``Axes`` (a new one when ``ax`` is None) and return it; nothing is saved."""
from __future__ import annotations

from collections.abc import Sequence

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
