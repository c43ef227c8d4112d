"""Exercise checks of notebook 13 (language model service): used by notebooks/13_language_model_service.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


LOGITS = (2.0, 1.5, 1.0, 0.5, 0.0)
"""Exercise 13.1: raw next-token logits of a 5-token vocabulary."""
COUNTS = (3, 0, 1, 0, 2)
"""Exercise 13.1: how often each token was generated so far."""
PENALTIES = {"frequency_penalty": 0.5, "presence_penalty": 0.4}
"""Exercise 13.1: the request's penalties."""
PROBS = (0.05, 0.4, 0.1, 0.25, 0.15, 0.05)
"""Exercise 13.2: next-token probabilities of a 6-token vocabulary."""
TOP_P = 0.75
"""Exercise 13.2: the request's ``top_p``."""
CHAT_TASK = {"model": "tiny-gpt", "content": "Define CYNIC.", "max_tokens": 40, "temperature": 0.7}
"""Exercise 13.3: what the chat request must ask for (and it must be streamed)."""


@exercise
def check_penalized_logits(answer) -> tuple[bool, str]:
    """Exercise 13.1: ``LOGITS`` after OpenAI's frequency and presence penalties (``PENALTIES``) for the
    generated-token counts ``COUNTS``: ``logit_j - c_j * frequency_penalty - [c_j > 0] * presence_penalty``.

    Examples
    --------
    >>> check_penalized_logits([0.1, 1.5, 0.1, 0.5, -1.4])
    ✓ penalised logits [0.1, 1.5, 0.1, 0.5, -1.4]: tokens never generated keep their logits
    True
    """
    logits, counts = np.array(LOGITS), np.array(COUNTS)
    fp, pp = PENALTIES["frequency_penalty"], PENALTIES["presence_penalty"]
    value = np.asarray(answer, dtype=np.float64).ravel()
    if value.shape != logits.shape:
        return False, f"give one logit per token: {len(logits)} values, got {value.size}"
    expected = logits - counts * fp - (counts > 0) * pp

    def near(x):
        return bool(np.allclose(value, x, atol=1e-9))

    if near(expected):
        return True, f"penalised logits {np.round(expected, 4).tolist()}: tokens never generated keep their logits"
    if near(logits + counts * fp + (counts > 0) * pp):
        return False, "the signs are reversed: penalties are subtracted, so repeated tokens become less likely"
    if near(logits - counts * fp):
        return False, "only the frequency penalty was applied; subtract presence_penalty once for every token with c_j > 0"
    if near(logits - (counts > 0) * pp):
        return False, "only the presence penalty was applied; also subtract c_j * frequency_penalty"
    if near(logits - counts * fp - pp):
        return False, "the presence penalty applies only to tokens already generated (c_j > 0), not to all"
    if near(logits - counts * (fp + pp)):
        return False, "the presence penalty is charged once per token that occurred, not once per occurrence"
    if near(logits - (counts > 0) * fp - counts * pp):
        return False, "frequency and presence are swapped: frequency scales with the count, presence is a flat charge"
    return False, f"{np.round(value, 4).tolist()} is not it; apply logit_j - c_j*frequency_penalty - [c_j>0]*presence_penalty"


@exercise
def check_top_p_set(answer) -> tuple[bool, str]:
    """Exercise 13.2: the token ids that top-p (nucleus) sampling with ``top_p = TOP_P`` keeps from
    ``PROBS``: the smallest set of most likely tokens whose probabilities sum to at least ``top_p``
    (a set or list of ids, or a boolean mask).

    Examples
    --------
    >>> check_top_p_set({1, 3, 4})
    ✓ kept {1, 3, 4}: 0.4 + 0.25 + 0.15 = 0.8 ≥ 0.75; the other tokens get probability 0
    True
    """
    probs = np.array(PROBS)
    order = np.argsort(-probs, kind="stable")
    n_keep = int(np.searchsorted(np.cumsum(probs[order]), TOP_P - 1e-12)) + 1
    expected = {int(i) for i in order[:n_keep]}
    raw = np.asarray(list(answer) if isinstance(answer, (set, frozenset)) else answer).ravel()
    if raw.dtype == bool:
        if raw.size != probs.size:
            return False, f"a boolean mask needs one entry per token ({probs.size}); got {raw.size}"
        got = {int(i) for i in np.flatnonzero(raw)}
    elif raw.size and np.issubdtype(raw.dtype, np.floating) and not np.all(raw == np.round(raw)):
        return False, "those look like probabilities; give the token ids (positions in PROBS) that are kept"
    else:
        got = {int(i) for i in raw}
    if got == expected:
        kept = " + ".join(f"{probs[i]:g}" for i in order[:n_keep])
        return True, (f"kept {sorted(expected)}".replace("[", "{").replace("]", "}")
                      + f": {kept} = {probs[order[:n_keep]].sum():.2g} ≥ {TOP_P}; the other tokens get probability 0")
    if got == set(int(i) for i in order[:n_keep - 1]):
        return False, ("those sum to less than top_p; the set must *reach* top_p, so it includes the token that "
                       "crosses the threshold")
    if got == set(int(i) for i in order[:n_keep + 1]):
        return False, "one token too many: stop as soon as the running sum reaches top_p"
    if got == set(int(i) for i in np.argsort(probs, kind="stable")[:n_keep]):
        return False, "those are the least likely tokens; sort by probability, largest first"
    if got and not got <= set(range(probs.size)):
        return False, f"token ids must be in 0..{probs.size - 1}"
    return False, f"{sorted(got)} is not it; sort the probabilities largest first and accumulate until the sum ≥ {TOP_P}"


@exercise
def check_chat_request(body) -> tuple[bool, str]:
    """Exercise 13.3: the JSON body of ``POST /v1/chat/completions`` that asks ``tiny-gpt`` to answer the user
    message "Define CYNIC." with at most 40 tokens at temperature 0.7, streamed (``CHAT_TASK``).
    ``max_completion_tokens`` is accepted in place of ``max_tokens``.

    Examples
    --------
    >>> check_chat_request({"model": "tiny-gpt", "messages": [{"role": "user", "content": "Define CYNIC."}],
    ...                     "max_tokens": 40, "temperature": 0.7, "stream": True})
    ✓ a valid streamed chat request: model, messages (1 user turn), max_tokens 40, temperature 0.7
    True
    """
    import json

    from aiaas_lib.serving.openai_api import CHAT_FIELDS

    task = CHAT_TASK
    if not isinstance(body, dict):
        return False, f"the body is a JSON object (a dict); got {type(body).__name__}"
    if "engine" in body:
        return False, '"engine" is the legacy API (openai<1.0); today\'s field is "model"'
    if "prompt" in body and "messages" not in body:
        return False, '"prompt" belongs to /v1/completions; a chat request sends "messages": [{"role": ..., "content": ...}]'
    unknown = sorted(set(body) - CHAT_FIELDS)
    if unknown:
        return False, f"the service refuses unknown fields with 400: {unknown}; allowed are e.g. model, messages, max_tokens"
    try:
        json.dumps(body)
    except TypeError as err:
        return False, f"the body must be JSON-serialisable ({err})"
    if body.get("model") != task["model"]:
        return False, f'"model" must be {task["model"]!r}; got {body.get("model")!r}'
    messages = body.get("messages")
    if isinstance(messages, str):
        return False, '"messages" is a list of {"role": ..., "content": ...} dicts, not a string'
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return False, '"messages" must be a non-empty list of {"role": ..., "content": ...} dicts'
    last = messages[-1]
    if last.get("role") != "user":
        return False, f'the question is the user\'s turn: role "user"; got {last.get("role")!r}'
    if last.get("content") != task["content"]:
        return False, f'the user\'s content must be {task["content"]!r}; got {last.get("content")!r}'
    if body.get("stream") is not True:
        return False, '"stream" must be the JSON boolean true (Python True), not ' + repr(body.get("stream"))
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if limit != task["max_tokens"] or isinstance(limit, bool):
        return False, f'limit the reply with "max_tokens": {task["max_tokens"]}; got {limit!r}'
    temperature = body.get("temperature")
    if isinstance(temperature, str) or temperature is None or abs(float(temperature) - task["temperature"]) > 1e-12:
        return False, f'"temperature" must be the number {task["temperature"]}; got {temperature!r}'
    return True, (f"a valid streamed chat request: model, messages ({len(messages)} user turn), "
                  f"max_tokens {limit}, temperature {temperature}")
