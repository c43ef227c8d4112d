"""Additivity, rank agreement and the attribution plot."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aiaas_lib.explain import (  # noqa: E402
    additivity_error, plot_attributions, rank_agreement,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_additivity_error_is_the_largest_gap():
    values = np.array([[0.5, 0.25], [0.25, 0.25]])
    assert additivity_error(values, np.array([0.0, 0.0]), np.array([0.75, 1.0])) == pytest.approx(0.5)


def test_additivity_error_accepts_one_row_and_scalars():
    assert additivity_error(np.array([0.5, 0.25]), 0.25, 1.0) == pytest.approx(0.0)


def test_additivity_error_refuses_mismatched_rows():
    with pytest.raises(ValueError, match=r"predictions has 3 entries but values have 2 rows"):
        additivity_error(np.zeros((2, 4)), np.zeros(2), np.zeros(3))


def test_rank_agreement_of_identical_attributions_is_perfect():
    a = np.array([0.3, -1.2, 0.05, 0.7, -0.4, 0.9])
    assert rank_agreement(a, a, k=3) == (pytest.approx(1.0), 1.0)


def test_rank_agreement_of_reversed_importance_is_minus_one():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    rho, overlap = rank_agreement(a, -a[::-1], k=2)
    assert rho == pytest.approx(-1.0)
    assert overlap == 0.0


def test_rank_agreement_averages_over_rows():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    b = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    rho, overlap = rank_agreement(a, b, k=1)
    assert rho == pytest.approx(0.0) and overlap == 0.5


def test_rank_agreement_uses_absolute_values():
    assert rank_agreement([1.0, -2.0, 3.0], [-1.0, 2.0, -3.0], k=1).rho == pytest.approx(1.0)


@pytest.mark.parametrize("k", [0, 6, 2.5])
def test_rank_agreement_refuses_k_out_of_range(k):
    with pytest.raises(ValueError, match=r"k=.* must be an integer in \[1, 5\] \(at most the number of features\)"):
        rank_agreement(np.arange(5.0), np.arange(5.0), k=k)


def test_rank_agreement_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"a has shape \(3,\) and b \(4,\); expected equal shapes"):
        rank_agreement(np.zeros(3), np.zeros(4), k=1)


def test_plot_attributions_draws_one_bar_per_feature_biggest_on_top():
    ax = plot_attributions(np.array([0.1, -0.5, 0.3]), ["a", "b", "c"], title="row 0")
    assert len(ax.patches) == 3
    assert ax.get_yticklabels()[-1].get_text() == "b" and ax.get_title() == "row 0"


def test_plot_attributions_top_keeps_the_largest():
    ax = plot_attributions(np.array([0.1, -0.5, 0.3]), ["a", "b", "c"], top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b"]


def test_plot_attributions_refuses_names_of_another_length():
    with pytest.raises(ValueError, match=r"values have shape \(3,\) but there are 2 names"):
        plot_attributions(np.zeros(3), ["a", "b"])
