"""The decoding loop: seeds, stop sequences, streaming, truncation, KV cache vs recomputation, errors."""
import numpy as np
import pytest

from aiaas_lib.generation import decoding as D
from aiaas_lib.generation.inference import KerasRecompute, NumpyGPT
from aiaas_lib.generation.model import keras, tiny_gpt
from aiaas_lib.generation.params import GenerationParamError
from aiaas_lib.generation.tokenizer import CharTokenizer

TOK = CharTokenizer().fit("abcdefgh")  # ids: <unk>=0, a=1 ... h=8


class Counter:
    """A fake language model that is sure the next token is the last one plus 1 (h wraps to a)."""

    context, vocab_size = 16, TOK.vocab_size

    def __init__(self, margin=10.0):
        self.margin = margin  # logit of the next letter; every other token has logit 0

    def logits(self, ids):
        ids = np.asarray(ids)
        out = np.zeros((len(ids), self.vocab_size))
        out[np.arange(len(ids)), ids % 8 + 1] = self.margin
        return out


@pytest.fixture(scope="module")
def engine():
    keras.utils.set_random_seed(0)
    model = tiny_gpt(TOK.vocab_size, context=32, dim=32, num_heads=4, num_layers=2)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0.0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    return NumpyGPT.from_keras(model)


def greedy(prompt, **kwargs):
    return D.generate(Counter(), prompt, tokenizer=TOK, temperature=0, use_cache=False, **kwargs)


def test_greedy_counter_writes_the_alphabet():
    out = greedy("ab", max_tokens=5)
    assert out.text == "cdefg" and out.finish_reason == "length" and out.completion_tokens == 5


def test_same_seed_same_text(engine):
    a = D.generate(engine, "abc", max_tokens=20, tokenizer=TOK, seed=3, temperature=1.2)
    b = D.generate(engine, "abc", max_tokens=20, tokenizer=TOK, seed=3, temperature=1.2)
    c = D.generate(engine, "abc", max_tokens=20, tokenizer=TOK, seed=4, temperature=1.2)
    assert a.text == b.text and a.token_ids == b.token_ids and a.text != c.text


def test_kv_cache_and_recomputation_choose_the_same_tokens(engine):
    kwargs = dict(max_tokens=25, tokenizer=TOK, seed=0, top_p=0.9, frequency_penalty=0.5, logprobs=True)
    cached = D.generate(engine, "hgfe", use_cache=True, **kwargs)
    recomputed = D.generate(engine, "hgfe", use_cache=False, **kwargs)
    assert cached.token_ids == recomputed.token_ids
    np.testing.assert_allclose([t.logprob for t in cached.logprobs], [t.logprob for t in recomputed.logprobs],
                               atol=1e-4)


def test_keras_recompute_engine_generates_the_same_text(engine):
    model = tiny_gpt(TOK.vocab_size, context=32, dim=32, num_heads=4, num_layers=1)
    kwargs = dict(max_tokens=6, tokenizer=TOK, temperature=0)
    assert (D.generate(KerasRecompute(model), "ab", use_cache=False, **kwargs).text
            == D.generate(NumpyGPT.from_keras(model), "ab", **kwargs).text)


def test_stop_sequence_ends_generation_and_is_excluded():
    out = greedy("a", max_tokens=10, stop=["ef", "zz"])
    assert out.text == "bcd" and out.finish_reason == "stop"
    assert TOK.decode(out.token_ids) == "bcdef"  # the stop sequence's tokens were generated (and are billed)


def test_earliest_stop_sequence_wins():
    assert greedy("a", max_tokens=10, stop=["fg", "cd"]).text == "b"


def test_stop_right_at_the_start_gives_empty_text():
    out = greedy("a", max_tokens=10, stop="b")
    assert out.text == "" and out.finish_reason == "stop" and out.completion_tokens == 1


def test_stream_holds_back_a_possible_stop_sequence():
    events = list(D.stream(Counter(), "a", max_tokens=10, tokenizer=TOK, temperature=0, use_cache=False,
                           stop=["defx", "ef"]))
    # 'd' could begin 'defx', then 'de' too and 'e' could begin 'ef': held; 'ef' completes, so 'd' is released
    assert [e.text for e in events] == ["b", "c", "", "", "d"] and events[-1].finish_reason == "stop"


def test_held_back_text_is_released_when_it_is_not_a_stop():
    events = list(D.stream(Counter(), "a", max_tokens=4, tokenizer=TOK, temperature=0, use_cache=False,
                           stop=["cdx"]))
    assert [e.text for e in events] == ["b", "", "", "cde"] and events[-1].finish_reason == "length"


def test_only_the_last_event_has_a_finish_reason():
    events = list(D.stream(Counter(), "a", max_tokens=4, tokenizer=TOK, temperature=0, use_cache=False))
    assert [e.finish_reason for e in events] == [None, None, None, "length"]
    assert [e.index for e in events] == [0, 1, 2, 3]


def test_long_prompt_is_left_truncated_to_fit_max_tokens():
    out = greedy("abcdefghabcdefgh", max_tokens=6)  # context 16: keep the last 10 prompt tokens
    assert out.prompt_tokens == 10 and out.truncated_prompt_tokens == 6 and out.text == "abcdef"


def test_penalties_break_the_counter_loop_exactly_when_the_formula_says():
    def run(frequency_penalty, presence_penalty):
        return D.generate(Counter(margin=3.0), "a", max_tokens=9, tokenizer=TOK, temperature=0, use_cache=False,
                          frequency_penalty=frequency_penalty, presence_penalty=presence_penalty).text

    # 'b' generated once: its logit becomes 3 - 1*2 - 2 = -1 < 0, so greedy takes the first zero-logit
    # token instead (id 0, <unk>, shown as U+FFFD). 'a' was only in the prompt, so it was not penalised.
    assert run(2.0, 2.0) == "bcdefgha\ufffd"
    assert run(1.4, 1.5) == "bcdefghab"  # 3 - 2.9 = 0.1 > 0: the loop goes on


def test_penalties_count_generated_tokens_not_the_prompt():
    # the prompt holds seven 'b's; if they counted, 'b' would get 3 - 7*2 < 0 and lose to <unk>
    out = D.generate(Counter(margin=3.0), "bbbbbbba", max_tokens=1, tokenizer=TOK, temperature=0, use_cache=False,
                     frequency_penalty=2.0)
    assert out.text == "b"


def test_logprobs_and_top_alternatives():
    out = greedy("a", max_tokens=2, logprobs=True, top_logprobs=2)
    first = out.logprobs[0]
    # logits: 10 for the next letter, 0 for the 8 others: logprob = -ln(1 + 8 e^-10)
    assert first.text == "b" and first.logprob == pytest.approx(-np.log1p(8 * np.exp(-10.0)), abs=1e-12)
    # the 8 other tokens tie at logit 0: the lowest id (0, <unk>, text U+FFFD) comes first
    assert [alt[:2] for alt in first.top] == [(2, "b"), (0, "\ufffd")]


@pytest.mark.parametrize("temperature", [0.0, 0.3, 1.0, 1.7])
def test_logprobs_are_the_raw_model_distribution_whatever_the_sampling(engine, temperature):
    prompt = TOK.encode("abc")
    out = D.generate(engine, prompt, max_tokens=1, tokenizer=TOK, seed=0, logprobs=True, temperature=temperature,
                     top_k=3, frequency_penalty=1.0)
    raw = engine.logits(prompt)[-1].astype(np.float64)
    expected = raw - np.log(np.exp(raw - raw.max()).sum()) - raw.max()
    assert out.logprobs[0].logprob == pytest.approx(expected[out.token_ids[0]], abs=1e-9)


def test_generate_without_tokenizer_returns_ids_only(engine):
    out = D.generate(engine, [1, 2, 3], max_tokens=4, seed=0)
    assert out.text is None and len(out.token_ids) == 4 and out.logprobs is None


def test_generate_choices_are_reproducible_and_start_like_generate(engine):
    a = D.generate_choices(engine, "abc", max_tokens=10, n=3, seed=9, tokenizer=TOK)
    b = D.generate_choices(engine, "abc", max_tokens=10, n=3, seed=9, tokenizer=TOK)
    assert [c.text for c in a] == [c.text for c in b] and len({c.text for c in a}) > 1
    assert a[0].text == D.generate(engine, "abc", max_tokens=10, seed=9, tokenizer=TOK).text


def test_stream_can_be_closed_early(engine):
    tokens = D.stream(engine, "abc", max_tokens=10, tokenizer=TOK, seed=0)
    next(tokens)
    tokens.close()
    assert next(tokens, None) is None


def test_as_engine_converts_keras_models():
    model = tiny_gpt(TOK.vocab_size, context=8, dim=8, num_heads=2, num_layers=1)
    assert isinstance(D.as_engine(model), NumpyGPT)


# ------------------------------------------------------------------ errors come before the first token
@pytest.mark.parametrize("kwargs, param", [
    (dict(temperature=3), "temperature"),
    (dict(top_p=0), "top_p"),
    (dict(top_k=-2), "top_k"),
    (dict(frequency_penalty=-2.5), "frequency_penalty"),
    (dict(presence_penalty=9), "presence_penalty"),
    (dict(max_tokens=32), "max_tokens"),
    (dict(max_tokens=0), "max_tokens"),
    (dict(stop=["a", "b", "c", "d", "e"]), "stop"),
    (dict(seed=-5), "seed"),
    (dict(top_logprobs=3), "top_logprobs"),
    (dict(logprobs=True, top_logprobs=30), "top_logprobs"),
])
def test_stream_checks_parameters_at_call_time(engine, kwargs, param):
    kwargs = {"max_tokens": 4, **kwargs}
    with pytest.raises(GenerationParamError) as info:
        D.stream(engine, "abc", tokenizer=TOK, **kwargs)  # no next(): the error must come before iteration
    assert info.value.param == param and param in str(info.value)


@pytest.mark.parametrize("prompt, message", [
    ("", "prompt is empty"),
    ([], "prompt is empty"),
    ([1, 99], r"prompt token ids must be in \[0, 8\]"),
    ([[1, 2]], "1-D list of token ids"),
])
def test_bad_prompts_are_refused(engine, prompt, message):
    with pytest.raises(GenerationParamError, match=message) as info:
        D.stream(engine, prompt, max_tokens=4, tokenizer=TOK)
    assert info.value.param == "prompt"


def test_stop_needs_a_tokenizer(engine):
    with pytest.raises(ValueError, match="pass the tokenizer"):
        D.stream(engine, [1, 2], max_tokens=4, stop="a")


def test_text_prompt_needs_a_tokenizer(engine):
    with pytest.raises(ValueError, match="a text prompt needs a tokenizer"):
        D.stream(engine, "abc", max_tokens=4)


def test_cache_needs_a_caching_engine():
    with pytest.raises(ValueError, match="pass use_cache=False"):
        D.stream(Counter(), "abc", max_tokens=4, tokenizer=TOK, use_cache=True)


def test_generate_choices_checks_n(engine):
    with pytest.raises(GenerationParamError, match="n=0 must be an integer >= 1"):
        D.generate_choices(engine, "abc", max_tokens=4, n=0, tokenizer=TOK)


def test_generate_choices_refuses_an_rng(engine):
    with pytest.raises(ValueError, match="do not pass rng"):
        D.generate_choices(engine, "abc", max_tokens=4, n=2, rng=np.random.default_rng(0), tokenizer=TOK)
