"""Used by notebook 13; also imported by the CLI/service.

A language model as a service, in miniature: a tiny GPT, OpenAI-style samplers and KV-cache decoding.

One concept per module. Importing this package imports only NumPy; the Keras parts (:mod:`.model`,
:mod:`.training`) import TensorFlow when imported themselves. A service loads a model once and then
calls :func:`generate` or :func:`stream` per request::

    from aiaas_lib.generation import model, NumpyGPT, CharTokenizer, stream
    engine = NumpyGPT.from_keras(model.load_gpt("gpt.keras"))      # once
    tokenizer = CharTokenizer.from_config(metadata["tokenizer"])   # once
    for event in stream(engine, "ABDICATION, n.", 64, tokenizer=tokenizer, temperature=0.8, seed=1):
        print(event.text, end="")                                  # per request

==================  ======================================================================================
module              what
==================  ======================================================================================
:mod:`.tokenizer`   :class:`CharTokenizer` (characters + ``<unk>``), :func:`chat_prompt`, ``CHAT_STOP``
:mod:`.params`      :class:`SamplingParams`, :class:`GenerationParamError` (``.param`` names the bad one),
                    ``check_*`` range checks (OpenAI's ranges)
:mod:`.sampling`    penalties, temperature, top-k, top-p, seeded sampling, log-probabilities (NumPy)
:mod:`.model`       :func:`~.model.tiny_gpt` (Keras, registered layers, safe_mode loading), ``load_gpt``
:mod:`.inference`   :class:`NumpyGPT` (forward pass in NumPy, :class:`KVCache`), :class:`KerasRecompute`
:mod:`.decoding`    :func:`stream`, :func:`generate`, :func:`generate_choices`: stop sequences, logprobs,
                    prompt truncation, with or without the KV cache
:mod:`.training`    :func:`~.training.train_tiny_gpt`, bits per character, unigram baseline,
                    :func:`~.training.train_default_gpt`
==================  ======================================================================================

Examples
--------
>>> import numpy as np
>>> from aiaas_lib import generation
>>> generation.apply_penalties(np.array([1.0, 1.0]), np.array([2, 0]), frequency_penalty=0.5).tolist()
[0.0, 1.0]
"""
from aiaas_lib.generation.decoding import (  # noqa: F401
    Completion, StreamEvent, TokenLogprob, TokenStream, as_engine, generate, generate_choices, stream,
)
from aiaas_lib.generation.inference import KerasRecompute, KVCache, NumpyGPT  # noqa: F401
from aiaas_lib.generation.params import GenerationParamError, SamplingParams  # noqa: F401
from aiaas_lib.generation.sampling import (  # noqa: F401
    apply_penalties, choose_token, log_softmax, sampling_distribution, softmax, token_logprobs, top_k_mask,
    top_p_mask,
)
from aiaas_lib.generation.tokenizer import CHAT_STOP, CharTokenizer, chat_prompt  # noqa: F401
