"""Used by notebook 13 (through :mod:`aiaas_lib.generation`); also imported by the CLI/service.

A character-level tokenizer: one token per character of the training text, plus ``<unk>``.

Vocabulary: id 0 is ``<unk>`` (any character the training text did not contain; it decodes to U+FFFD,
the replacement character), then every distinct character of the text in code-point order. For The
Devil's Dictionary that is 84 characters, so 85 tokens, and bits per token are bits per character.

There is no end-of-text token: the corpus is one long text with nothing to end, so the model never
learned one. A reply ends at ``max_tokens`` or at a stop sequence (the chat template below suggests one).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

UNK = "<unk>"
UNK_TEXT = "\ufffd"
SPECIAL_TOKENS = (UNK,)
CHAT_ROLES = ("system", "user", "assistant")


class CharTokenizer:
    """Characters <-> token ids, fitted to a text (scikit-learn manners: ``fit`` returns self).

    Examples
    --------
    >>> tok = CharTokenizer().fit("abba cab")
    >>> tok.vocabulary_
    ['<unk>', ' ', 'a', 'b', 'c']
    >>> tok.encode("cab!").tolist()  # '!' was not in the text: <unk>
    [4, 2, 3, 0]
    >>> tok.decode([4, 2, 3, 0])
    'cab\ufffd'
    """

    def __init__(self):
        self.vocabulary_: list[str] | None = None

    def fit(self, text: str) -> CharTokenizer:
        """Learn the vocabulary: ``<unk>`` then the distinct characters of ``text`` in code-point order."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"fit needs a non-empty string; got {type(text).__name__} of length "
                             f"{len(text) if isinstance(text, str) else 'n/a'}")
        return self._set(list(SPECIAL_TOKENS) + sorted(set(text)))

    def _set(self, vocabulary: Sequence[str]) -> CharTokenizer:
        """Install a vocabulary and its lookup tables."""
        self.vocabulary_ = list(vocabulary)
        self._ids = {ch: i for i, ch in enumerate(self.vocabulary_) if i >= len(SPECIAL_TOKENS)}
        self._texts = [UNK_TEXT] + self.vocabulary_[len(SPECIAL_TOKENS):]
        return self

    def _check_fitted(self) -> None:
        """Raise if ``fit`` (or ``from_config``) has not run."""
        if self.vocabulary_ is None:
            raise RuntimeError("This CharTokenizer is not fitted yet: "
                               "call fit(text) or CharTokenizer.from_config(...)")

    @property
    def vocab_size(self) -> int:
        """Number of tokens, special ones included."""
        self._check_fitted()
        return len(self.vocabulary_)

    def encode(self, text: str, errors: str = "replace") -> np.ndarray:
        """Token ids (int32, 1-D) of ``text``; unknown characters become ``<unk>`` (``errors="replace"``)
        or raise ``ValueError`` (``errors="strict"``)."""
        self._check_fitted()
        if errors not in ("replace", "strict"):
            raise ValueError(f"errors={errors!r}; expected one of ['replace', 'strict']")
        ids = [self._ids.get(ch, 0) for ch in text]
        if errors == "strict" and 0 in ids:
            unknown = sorted({ch for ch in text if ch not in self._ids})
            raise ValueError(f"characters {unknown!r} are not in the vocabulary of {self.vocab_size} tokens")
        return np.asarray(ids, dtype=np.int32)

    def token_text(self, token_id: int) -> str:
        """The text of one token (``<unk>`` gives U+FFFD)."""
        self._check_fitted()
        if not 0 <= int(token_id) < len(self._texts):
            raise ValueError(f"token id {token_id!r} is outside the vocabulary [0, {len(self._texts) - 1}]")
        return self._texts[int(token_id)]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of token ids."""
        return "".join(self.token_text(i) for i in ids)

    def to_config(self) -> dict:
        """A JSON-able description (kind and vocabulary), e.g. for the model registry's metadata."""
        self._check_fitted()
        return {"kind": "char", "vocabulary": list(self.vocabulary_)}

    @classmethod
    def from_config(cls, config: Mapping) -> CharTokenizer:
        """Rebuild a tokenizer from :meth:`to_config` output.

        Examples
        --------
        >>> tok = CharTokenizer().fit("hello")
        >>> CharTokenizer.from_config(tok.to_config()).encode("hole").tolist() == tok.encode("hole").tolist()
        True
        """
        vocabulary = list(config.get("vocabulary") or [])
        if config.get("kind") != "char" or vocabulary[:len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            raise ValueError(f"not a CharTokenizer config: kind={config.get('kind')!r}, vocabulary starting "
                             f"{vocabulary[:2]!r}; expected kind 'char' and {list(SPECIAL_TOKENS)} first")
        chars = vocabulary[len(SPECIAL_TOKENS):]
        if any(len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError("a CharTokenizer vocabulary holds distinct single characters after the special tokens")
        return cls()._set(vocabulary)

    def __repr__(self) -> str:
        size = "unfitted" if self.vocabulary_ is None else f"{len(self.vocabulary_)} tokens"
        return f"CharTokenizer({size})"


def chat_prompt(messages: Sequence[Mapping[str, str]]) -> str:
    """Plain-text chat template: one ``role: content`` paragraph per message, then ``assistant:``.

    The tiny model never saw chat data, so the template uses only characters of the corpus; no special
    tokens. Pass ``CHAT_STOP`` as the stop sequences so a reply ends where the model starts a new turn.

    Examples
    --------
    >>> chat_prompt([{"role": "user", "content": "Define LAWYER."}])
    'user: Define LAWYER.\\n\\nassistant:'
    """
    parts = []
    for i, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in CHAT_ROLES:
            raise ValueError(f"messages[{i}].role={role!r}; expected one of {list(CHAT_ROLES)}")
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}].content must be a string; got {type(content).__name__}")
        parts.append(f"{role}: {content}")
    if not parts:
        raise ValueError("messages is empty; a chat prompt needs at least one message")
    return "\n\n".join(parts) + "\n\nassistant:"


#: Stop sequences that end an assistant turn written with :func:`chat_prompt`.
CHAT_STOP = ("\n\nuser:", "\n\nsystem:", "\n\nassistant:")
