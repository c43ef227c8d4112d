"""Used by notebook 13; also imported by the CLI/service.

Choosing the next token from a model's logits, in NumPy, the way OpenAI's API documents it.

Order of operations for one step (``choose_token``):

1. **Penalties** on the raw logits, as OpenAI's API reference documents them ("Parameter details",
   https://platform.openai.com/docs/api-reference/parameter-details, "Frequency and presence penalties")::

       logit_j  ->  logit_j - c_j * frequency_penalty - [c_j > 0] * presence_penalty

   where ``c_j`` is "how often that token was sampled prior to the current position": the *generated*
   tokens only; the prompt does not count.
2. **Temperature**: 0 means greedy, the argmax of the penalised logits (first index on ties);
   otherwise divide the logits by the temperature.
3. **top-k** (0 = off): keep the k largest tempered logits (ties broken towards lower token ids).
4. **top-p** (nucleus): on the softmax of what is left, keep the smallest set of most likely tokens
   whose probability sum reaches ``top_p``.
5. **Sample** from the renormalised kept probabilities with one uniform draw of a
   ``numpy.random.Generator`` (``default_rng(seed)``), by inverting the cumulative distribution: the
   same seed gives the same tokens.

**Log-probabilities** (:func:`token_logprobs`) are those of the *model's own distribution*,
log-softmax of the raw logits before penalties, temperature, top-k and top-p (vLLM's default; OpenAI's
documentation does not say). So they do not change with the sampling knobs, are finite for every token,
and their sum over a text is the model's log-likelihood of it (-sum / ln 2 / n = bits per character).
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.generation.params import SamplingParams
from aiaas_lib.numpy_nn.activations import softmax  # the one softmax, from notebook 02's maths

#: Slack when comparing a cumulative probability with top_p (float64 sums of probabilities are exact to ~1e-16).
TOP_P_TOLERANCE = 1e-12


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis in float64.

    Examples
    --------
    >>> round(float(np.exp(log_softmax(np.array([1.0, 2.0, 3.0]))).sum()), 12)
    1.0
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def token_counts(token_ids, vocab_size: int) -> np.ndarray:
    """How often each token id occurs in ``token_ids`` (int64 array of length ``vocab_size``).

    Examples
    --------
    >>> token_counts([2, 0, 2], vocab_size=4).tolist()
    [1, 0, 2, 0]
    """
    return np.bincount(np.asarray(token_ids, dtype=np.int64), minlength=vocab_size)


def apply_penalties(logits: np.ndarray, counts: np.ndarray, frequency_penalty: float = 0.0,
                    presence_penalty: float = 0.0) -> np.ndarray:
    """OpenAI's penalties: ``logit_j - c_j * frequency_penalty - [c_j > 0] * presence_penalty`` (float64).

    Examples
    --------
    >>> apply_penalties(np.array([1.0, 1.0, 1.0]), np.array([0, 1, 3]), frequency_penalty=0.5,
    ...                 presence_penalty=0.25).tolist()
    [1.0, 0.25, -0.75]
    """
    logits, counts = np.asarray(logits, dtype=np.float64), np.asarray(counts)
    if logits.shape != counts.shape:
        raise ValueError(f"logits shape {logits.shape} and counts shape {counts.shape} must match")
    return logits - counts * float(frequency_penalty) - (counts > 0) * float(presence_penalty)


def top_k_mask(logits: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest logits (all True when k is 0 or >= the vocabulary).

    Examples
    --------
    >>> top_k_mask(np.array([0.1, 3.0, 2.0, 3.0]), 2).tolist()  # tie at 3.0: both kept, 2.0 dropped
    [False, True, False, True]
    """
    logits = np.asarray(logits)
    if k < 0:
        raise ValueError(f"k={k!r} must be >= 0 (0 switches top-k off)")
    mask = np.ones(logits.shape, dtype=bool)
    if 0 < k < logits.shape[-1]:
        order = np.argsort(-logits, kind="stable")
        mask[:] = False
        mask[order[:k]] = True
    return mask


def top_p_mask(probs: np.ndarray, p: float) -> np.ndarray:
    """Boolean mask of the smallest set of most likely tokens whose probabilities sum to at least ``p``.

    Examples
    --------
    >>> top_p_mask(np.array([0.1, 0.5, 0.15, 0.25]), 0.75).tolist()  # 0.5 + 0.25 reaches 0.75
    [False, True, False, True]
    >>> top_p_mask(np.array([0.1, 0.5, 0.15, 0.25]), 0.76).tolist()  # needs 0.15 too
    [False, True, True, True]
    """
    probs = np.asarray(probs, dtype=np.float64)
    if not 0 < p <= 1:
        raise ValueError(f"p={p!r} must be in (0, 1]")
    order = np.argsort(-probs, kind="stable")
    cumulative = np.cumsum(probs[order])
    n_keep = int(np.searchsorted(cumulative, p - TOP_P_TOLERANCE, side="left")) + 1
    mask = np.zeros(probs.shape, dtype=bool)
    mask[order[:min(n_keep, len(order))]] = True
    return mask & (probs > 0)


def sampling_distribution(logits: np.ndarray, counts: np.ndarray, params: SamplingParams) -> np.ndarray:
    """Steps 1-4 above for ``temperature > 0``: the probabilities the next token is drawn from.

    Examples
    --------
    >>> d = sampling_distribution(np.log([0.5, 0.3, 0.2]), np.zeros(3, int), SamplingParams(top_p=0.8))
    >>> d.round(3).tolist()
    [0.625, 0.375, 0.0]
    """
    if params.temperature == 0:
        raise ValueError("temperature=0 is greedy: there is no distribution to sample from; use choose_token")
    z = apply_penalties(logits, counts, params.frequency_penalty, params.presence_penalty) / params.temperature
    if params.top_k:
        z = np.where(top_k_mask(z, params.top_k), z, -np.inf)
    probs = softmax(z)
    if params.top_p < 1:
        probs = np.where(top_p_mask(probs, params.top_p), probs, 0.0)
        probs /= probs.sum()
    return probs


def choose_token(logits: np.ndarray, counts: np.ndarray, params: SamplingParams, rng: np.random.Generator) -> int:
    """The next token: greedy when ``temperature == 0``, else one draw from :func:`sampling_distribution`.

    Exactly one ``rng.random()`` call per sampled token (none when greedy), so a seed fixes the output.

    Examples
    --------
    >>> logits, counts = np.array([2.0, 1.0, 0.5]), np.zeros(3, int)
    >>> choose_token(logits, counts, SamplingParams(temperature=0), np.random.default_rng(0))
    0
    >>> a = [choose_token(logits, counts, SamplingParams(), np.random.default_rng(7)) for _ in range(3)]
    >>> len(set(a))  # same seed, same choice
    1
    """
    if params.temperature == 0:
        z = apply_penalties(logits, counts, params.frequency_penalty, params.presence_penalty)
        return int(np.argmax(z))
    probs = sampling_distribution(logits, counts, params)
    cumulative = np.cumsum(probs)
    u = rng.random() * cumulative[-1]
    return int(min(np.searchsorted(cumulative, u, side="right"), len(probs) - 1))


def token_logprobs(logits: np.ndarray, token: int, top: int = 0) -> tuple[float, list[tuple[int, float]]]:
    """Log-probability of ``token`` under the model's raw distribution, and the ``top`` most likely
    tokens as (id, logprob) pairs, most likely first.

    Examples
    --------
    >>> lp, alternatives = token_logprobs(np.log([0.5, 0.25, 0.25]), token=1, top=2)
    >>> round(lp, 4), [(i, round(v, 4)) for i, v in alternatives]
    (-1.3863, [(0, -0.6931), (1, -1.3863)])
    """
    logp = log_softmax(logits)
    order = np.argsort(-logp, kind="stable")[:top] if top else []
    return float(logp[token]), [(int(i), float(logp[i])) for i in order]
