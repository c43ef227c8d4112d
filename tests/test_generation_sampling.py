"""Samplers and request-parameter checks of aiaas_lib.generation (NumPy only, hand-made logits)."""
import math

import numpy as np
import pytest

from aiaas_lib.generation import params as P
from aiaas_lib.generation import sampling as S


def test_penalties_follow_openai_formula_exactly():
    logits = np.array([2.0, 1.5, -0.5, 0.25])
    counts = np.array([0, 1, 2, 5])
    out = S.apply_penalties(logits, counts, frequency_penalty=0.5, presence_penalty=1.0)
    # logit_j - c_j * 0.5 - [c_j > 0] * 1.0, worked by hand; all values are exact in binary floating point
    assert out.tolist() == [2.0, 0.0, -2.5, -3.25]


def test_negative_penalties_encourage_repeats():
    out = S.apply_penalties(np.zeros(3), np.array([0, 1, 3]), frequency_penalty=-1.0, presence_penalty=-0.5)
    assert out.tolist() == [0.0, 1.5, 3.5]


def test_penalties_reject_shape_mismatch():
    with pytest.raises(ValueError, match="counts shape"):
        S.apply_penalties(np.zeros(3), np.zeros(4))


def test_token_counts_count_each_id():
    assert S.token_counts([3, 3, 1], 5).tolist() == [0, 1, 0, 2, 0]


def test_top_k_keeps_the_k_largest():
    mask = S.top_k_mask(np.array([0.5, 2.0, -1.0, 1.0, 3.0]), 3)
    assert mask.tolist() == [False, True, False, True, True]


def test_top_k_zero_keeps_everything():
    assert S.top_k_mask(np.array([0.5, 2.0, -1.0]), 0).all()


def test_top_k_rejects_negative():
    with pytest.raises(ValueError, match="k=-1"):
        S.top_k_mask(np.zeros(3), -1)


@pytest.mark.parametrize("p, kept", [
    (0.4, [1]),           # 0.4 alone reaches 0.4
    (0.41, [1, 3]),       # 0.4 + 0.3 = 0.7
    (0.7, [1, 3]),
    (0.71, [1, 3, 0]),    # + 0.2 = 0.9
    (1.0, [1, 3, 0, 2]),
])
def test_top_p_keeps_the_smallest_set_reaching_p(p, kept):
    probs = np.array([0.2, 0.4, 0.1, 0.3])
    assert np.flatnonzero(S.top_p_mask(probs, p)).tolist() == sorted(kept)


def test_top_p_rejects_zero():
    with pytest.raises(ValueError, match=r"p=0 must be in \(0, 1\]"):
        S.top_p_mask(np.array([1.0]), 0)


def test_top_p_is_applied_after_temperature():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    # at temperature 1 the nucleus 0.75 needs tokens 0 and 1; at temperature 0.25 token 0 alone has
    # 0.5^4 / (0.5^4 + 0.3^4 + 0.2^4) = 0.875 of the mass
    cold = S.sampling_distribution(logits, np.zeros(3, int), P.SamplingParams(temperature=0.25, top_p=0.75))
    warm = S.sampling_distribution(logits, np.zeros(3, int), P.SamplingParams(temperature=1.0, top_p=0.75))
    assert np.flatnonzero(cold).tolist() == [0] and np.flatnonzero(warm).tolist() == [0, 1]


def test_top_k_then_top_p_renormalise_to_one():
    rng = np.random.default_rng(0)
    probs = S.sampling_distribution(rng.normal(size=50), np.zeros(50, int), P.SamplingParams(top_k=10, top_p=0.5))
    assert 1 <= np.count_nonzero(probs) <= 10 and math.isclose(probs.sum(), 1.0, abs_tol=1e-12)


def test_temperature_zero_is_argmax_of_penalised_logits():
    logits, counts = np.array([3.0, 2.9, 0.0]), np.array([1, 0, 0])
    token = S.choose_token(logits, counts, P.SamplingParams(temperature=0, presence_penalty=0.5), None)
    assert token == 1  # 3.0 - 0.5 < 2.9


def test_temperature_to_zero_equals_greedy():
    rng = np.random.default_rng(0)
    for _ in range(50):
        logits, counts = rng.normal(size=20) * 3, rng.integers(0, 3, size=20)
        greedy = S.choose_token(logits, counts, P.SamplingParams(temperature=0, frequency_penalty=0.3), None)
        cold = S.choose_token(logits, counts, P.SamplingParams(temperature=1e-4, frequency_penalty=0.3),
                              np.random.default_rng(1))
        assert cold == greedy


def test_same_seed_same_tokens_and_other_seed_differs():
    logits, counts, params = np.zeros(30), np.zeros(30, int), P.SamplingParams()

    def draw(seed):
        rng = np.random.default_rng(seed)
        return [S.choose_token(logits, counts, params, rng) for _ in range(20)]

    assert draw(5) == draw(5) and draw(5) != draw(6)


def test_sampling_frequencies_match_the_distribution():
    logits, params = np.log(np.array([0.6, 0.3, 0.1])), P.SamplingParams()
    rng = np.random.default_rng(0)
    draws = np.bincount([S.choose_token(logits, np.zeros(3, int), params, rng) for _ in range(20_000)], minlength=3)
    # standard error of a frequency near 0.5 with 20,000 draws is ~0.0035; allow ~4 of them
    np.testing.assert_allclose(draws / draws.sum(), [0.6, 0.3, 0.1], atol=0.015)


def test_sampling_never_picks_a_filtered_token():
    logits, params = np.array([5.0, 4.0, 0.0, -1.0]), P.SamplingParams(temperature=2.0, top_k=2)
    rng = np.random.default_rng(0)
    assert {S.choose_token(logits, np.zeros(4, int), params, rng) for _ in range(2000)} == {0, 1}


def test_sampling_distribution_refuses_temperature_zero():
    with pytest.raises(ValueError, match="temperature=0 is greedy"):
        S.sampling_distribution(np.zeros(3), np.zeros(3, int), P.SamplingParams(temperature=0))


def test_logprobs_are_the_raw_model_distribution_with_top_alternatives():
    logits = np.array([1.0, 3.0, 2.0])
    logp, top = S.token_logprobs(logits, token=2, top=2)
    expected = logits - np.log(np.exp(logits).sum())
    assert math.isclose(logp, expected[2], abs_tol=1e-12)
    assert [t for t, _ in top] == [1, 2] and math.isclose(top[0][1], expected[1], abs_tol=1e-12)


# ------------------------------------------------------------------------------------- parameter checks
@pytest.mark.parametrize("field, value, message", [
    ("temperature", -0.1, r"temperature=-0.1 must be a number in \[0, 2\]"),
    ("temperature", 2.01, r"temperature=2.01 must be a number in \[0, 2\]"),
    ("temperature", float("nan"), r"temperature=nan must be a number"),
    ("temperature", "hot", r"temperature='hot' must be a number"),
    ("top_p", 0.0, r"top_p=0.0 must be a number in \(0, 1\]"),
    ("top_p", 1.5, r"top_p=1.5 must be a number in \(0, 1\]"),
    ("top_k", -1, r"top_k=-1 must be an integer >= 0"),
    ("top_k", 2.5, r"top_k=2.5 must be an integer >= 0"),
    ("frequency_penalty", 2.5, r"frequency_penalty=2.5 must be a number in \[-2, 2\]"),
    ("presence_penalty", -3, r"presence_penalty=-3 must be a number in \[-2, 2\]"),
    ("presence_penalty", True, r"presence_penalty=True must be a number"),
])
def test_sampling_params_name_the_bad_parameter(field, value, message):
    with pytest.raises(P.GenerationParamError, match=message) as info:
        P.SamplingParams(**{field: value})
    assert info.value.param == field and isinstance(info.value, ValueError)


def test_sampling_params_accept_range_edges():
    params = P.SamplingParams(temperature=2, top_p=1, top_k=0, frequency_penalty=-2, presence_penalty=2)
    assert params.temperature == 2


@pytest.mark.parametrize("stop, message", [
    (["a", "b", "c", "d", "e"], "stop has 5 sequences; at most 4"),
    (["a", ""], "must hold non-empty strings"),
    ("", "must hold non-empty strings"),
    ([1], "must be a string or a list of strings"),
])
def test_stop_checks(stop, message):
    with pytest.raises(P.GenerationParamError, match=message) as info:
        P.check_stop(stop)
    assert info.value.param == "stop"


def test_stop_accepts_up_to_four():
    assert P.check_stop(("a", "b", "c", "d")) == ("a", "b", "c", "d")


@pytest.mark.parametrize("value", [0, 64, 1.0, True])
def test_max_tokens_must_fit_the_context(value):
    with pytest.raises(P.GenerationParamError, match=r"max_tokens=.* must be an integer in \[1, 63\]") as info:
        P.check_max_tokens(value, context=64)
    assert info.value.param == "max_tokens"


def test_n_top_logprobs_and_seed_checks():
    with pytest.raises(P.GenerationParamError, match=r"top_logprobs=21 must be an integer in \[0, 20\]"):
        P.check_top_logprobs(21)
    with pytest.raises(P.GenerationParamError, match="seed=-1 must be an integer >= 0"):
        P.check_seed(-1)
    with pytest.raises(P.GenerationParamError, match="n=0 must be an integer >= 1"):
        P.check_int("n", 0, 1)
