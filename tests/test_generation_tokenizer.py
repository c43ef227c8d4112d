"""Character tokenizer and chat template of aiaas_lib.generation."""
import pytest

from aiaas_lib.generation.tokenizer import CHAT_STOP, UNK, CharTokenizer, chat_prompt

TEXT = "The Devil's Dictionary, 1911."


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer().fit(TEXT)


def test_vocabulary_is_unk_then_sorted_characters(tok):
    assert tok.vocabulary_[0] == UNK and tok.vocabulary_[1:] == sorted(set(TEXT))


def test_encode_decode_round_trip(tok):
    assert tok.decode(tok.encode(TEXT)) == TEXT and len(tok.encode(TEXT)) == len(TEXT)


def test_unknown_characters_become_unk_and_decode_to_replacement(tok):
    ids = tok.encode("Dz")
    assert ids.tolist()[1] == 0 and tok.decode(ids) == "D\ufffd"


def test_strict_encoding_names_unknown_characters(tok):
    with pytest.raises(ValueError, match=r"characters \['z'\] are not in the vocabulary"):
        tok.encode("Dz", errors="strict")


def test_encode_rejects_unknown_error_mode(tok):
    with pytest.raises(ValueError, match="errors='ignore'"):
        tok.encode("D", errors="ignore")


def test_config_round_trip(tok):
    again = CharTokenizer.from_config(tok.to_config())
    assert again.vocabulary_ == tok.vocabulary_ and again.vocab_size == tok.vocab_size


def test_from_config_rejects_other_tokenizers():
    with pytest.raises(ValueError, match="not a CharTokenizer config"):
        CharTokenizer.from_config({"kind": "bpe", "vocabulary": ["<unk>", "a"]})


def test_from_config_rejects_multi_character_entries():
    with pytest.raises(ValueError, match="distinct single characters"):
        CharTokenizer.from_config({"kind": "char", "vocabulary": ["<unk>", "ab"]})


def test_unfitted_tokenizer_says_so():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        CharTokenizer().encode("a")


def test_fit_rejects_empty_text():
    with pytest.raises(ValueError, match="non-empty string"):
        CharTokenizer().fit("")


def test_token_text_rejects_out_of_range_ids(tok):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.token_text(tok.vocab_size)


def test_chat_prompt_ends_with_assistant_turn():
    prompt = chat_prompt([{"role": "system", "content": "Be cynical."}, {"role": "user", "content": "LAWYER"}])
    assert prompt == "system: Be cynical.\n\nuser: LAWYER\n\nassistant:"
    assert all(stop.startswith("\n\n") for stop in CHAT_STOP)


@pytest.mark.parametrize("messages, message", [
    ([], "messages is empty"),
    ([{"role": "bot", "content": "hi"}], r"messages\[0\].role='bot'"),
    ([{"role": "user", "content": 3}], r"messages\[0\].content must be a string"),
])
def test_chat_prompt_errors(messages, message):
    with pytest.raises(ValueError, match=message):
        chat_prompt(messages)
