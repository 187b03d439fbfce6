"""Tokenizers, side by side: one `Token` type for every tokenizer family.

Three libraries hide behind one interface (`TextTokenizer.encode(text) -> list[Token]`):
tiktoken (cl100k_base, o200k_base), Hugging Face tokenizers (GPT-2, BERT, CLIP, any Hub id,
BPEs trained in the app) and SentencePiece (Mistral/Llama-style BPE with byte fallback).

Every token carries the character span of the input it stands for, so the UI can light up the
same characters in every tokenizer. Spans come from the most exact source each library offers:
- byte-level tokenizers whose token bytes concatenate back to the input (GPT-2, cl100k, o200k):
  from cumulative byte offsets. A token holding only part of a multi-byte character (an emoji
  split into 3 tokens) gets that character's span and kind "partial";
- SentencePiece: from the byte offsets it reports for every piece;
- everything else (BERT lowercases and strips accents, CLIP rewrites whitespace): from the
  library's offset mapping.

The attention tab reuses `TextTokenizer` for its models, so the tokens a learner compares here
are exactly the tokens whose attention they see there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from core import assets

TokenKind = Literal["normal", "partial", "byte_fallback", "unknown"]

MAX_INPUT_CHARS = 200_000  # beyond this the input is cut (with a notice) before tokenizing
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Token:
    id: int
    piece: str  # the vocabulary entry as the tokenizer stores it: 'Ġthe', '##ing', '▁the', '<0xE4>'
    raw: bytes  # the bytes of the input this token stands for
    start: int  # character span [start, end) in the input text
    end: int
    kind: TokenKind = "normal"


@dataclass(frozen=True)
class Encoding:
    key: str
    title: str
    text: str
    tokens: list[Token]

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def n_chars(self) -> int:
        return len(self.text)

    @property
    def n_bytes(self) -> int:
        return len(self.text.encode("utf-8"))

    @property
    def chars_per_token(self) -> float:
        return self.n_chars / self.n_tokens if self.tokens else 0.0

    @property
    def bytes_per_token(self) -> float:
        return self.n_bytes / self.n_tokens if self.tokens else 0.0

    @property
    def n_byte_fallback(self) -> int:
        return sum(token.kind == "byte_fallback" for token in self.tokens)

    @property
    def n_unknown(self) -> int:
        return sum(token.kind == "unknown" for token in self.tokens)


def clean_text(text: str | None) -> tuple[str, list[str]]:
    """Make any input tokenizable; return the text and one notice per change made."""
    notices: list[str] = []
    text = text or ""
    if len(text) > MAX_INPUT_CHARS:
        notices.append(f"The text has {len(text):,} characters; only the first {MAX_INPUT_CHARS:,} are tokenized.")
        text = text[:MAX_INPUT_CHARS]
    surrogates = len(_SURROGATES.findall(text))
    if surrogates:
        notices.append(
            f"{surrogates} lone surrogate code point(s) cannot be encoded as UTF-8 and were replaced by U+FFFD."
        )
        text = _SURROGATES.sub("\ufffd", text)
    return text, notices


def char_index_of_bytes(text: str) -> list[int]:
    """For each UTF-8 byte offset of `text` (plus the end), the index of the character holding it."""
    if text.isascii():  # one byte per character: the identity
        return list(range(len(text) + 1))
    index: list[int] = []
    for position, char in enumerate(text):
        index.extend([position] * len(char.encode("utf-8")))
    index.append(len(text))
    return index


def spans_from_bytes(text: str, pieces: list[bytes]) -> list[tuple[int, int, bool]]:
    """Character span and 'partial' flag of consecutive byte pieces that concatenate to `text`."""
    char_of = char_index_of_bytes(text)
    spans, offset = [], 0
    for raw in pieces:
        first, last = offset, offset + len(raw)
        start = char_of[first]
        end = char_of[last - 1] + 1 if raw else start
        # partial: the piece starts or ends inside a character's UTF-8 encoding
        partial = bool(raw) and (
            (first > 0 and char_of[first] == char_of[first - 1]) or char_of[last] == char_of[last - 1]
        )
        spans.append((start, end, partial))
        offset = last
    return spans


class TextTokenizer:
    """One tokenizer behind the common interface. Subclasses wrap one library each."""

    key: str
    title: str
    byte_level_bpe: bool = False  # can "How BPE got here" replay its merges?

    def encode(self, text: str) -> list[Token]:
        raise NotImplementedError

    def vocab_size(self) -> int:
        raise NotImplementedError

    def run(self, text: str) -> Encoding:
        return Encoding(self.key, self.title, text, self.encode(text))


class TiktokenTokenizer(TextTokenizer):
    byte_level_bpe = True

    def __init__(self, key: str, title: str, encoding):
        self.key, self.title, self.encoding = key, title, encoding

    def encode(self, text: str) -> list[Token]:
        ids = self.encoding.encode_ordinary(text)  # special-token strings are plain text here
        pieces = [self.encoding.decode_single_token_bytes(i) for i in ids]
        return [
            Token(i, raw.decode("utf-8", "backslashreplace"), raw, start, end, "partial" if partial else "normal")
            for i, raw, (start, end, partial) in zip(ids, pieces, spans_from_bytes(text, pieces), strict=True)
        ]

    def vocab_size(self) -> int:
        return self.encoding.n_vocab


class HFTokenizer(TextTokenizer):
    """A transformers fast tokenizer (GPT-2, BERT, CLIP, Hub ids, BPEs trained in the app)."""

    def __init__(self, key: str, title: str, tokenizer):
        self.key, self.title, self.tokenizer = key, title, tokenizer
        from core.tokenizer_files import bytes_to_unicode

        self._byte_of = {char: byte for byte, char in bytes_to_unicode().items()}
        model = tokenizer.backend_tokenizer.model
        self.end_of_word_suffix = getattr(model, "end_of_word_suffix", None) or ""
        pre = tokenizer.backend_tokenizer.pre_tokenizer
        self.byte_level_bpe = type(model).__name__ == "BPE" and "ByteLevel" in repr(pre)

    def _raw_bytes(self, piece: str) -> bytes | None:
        """The bytes a byte-level piece stands for, or None if it is not a byte-level piece."""
        if self.end_of_word_suffix and piece.endswith(self.end_of_word_suffix):
            piece = piece[: -len(self.end_of_word_suffix)]
        try:
            return bytes(self._byte_of[char] for char in piece)
        except KeyError:
            return None

    def encode(self, text: str) -> list[Token]:
        # split_special_tokens: a typed '<|endoftext|>' is plain text, as in tiktoken's encode_ordinary
        out = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, split_special_tokens=True)
        ids, offsets = out["input_ids"], out["offset_mapping"]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        unk = self.tokenizer.unk_token_id
        raws = [self._raw_bytes(piece) for piece in pieces] if self.byte_level_bpe else []
        byte_exact = bool(raws) and all(r is not None for r in raws)
        if byte_exact and b"".join(raws) == text.encode("utf-8"):
            spans = spans_from_bytes(text, raws)  # exact, even inside multi-byte characters
        else:
            # normalising tokenizers (BERT, CLIP): trust the library's offsets; several tokens
            # on one single character means each holds part of that character's bytes
            shared = Counter(offsets)
            spans = [(s, e, e - s == 1 and shared[(s, e)] > 1) for s, e in offsets]
            if not byte_exact:
                raws = [text[s:e].encode("utf-8") for s, e in offsets]
        tokens = []
        for i, piece, raw, (start, end, partial) in zip(ids, pieces, raws, spans, strict=True):
            kind = "unknown" if unk is not None and i == unk else "partial" if partial else "normal"
            tokens.append(Token(i, piece, raw, start, end, kind))
        return tokens

    def vocab_size(self) -> int:
        return len(self.tokenizer)


class SentencePieceTokenizer(TextTokenizer):
    def __init__(self, key: str, title: str, processor):
        self.key, self.title, self.sp = key, title, processor

    def encode(self, text: str) -> list[Token]:
        proto = self.sp.encode(text, return_type="proto")
        char_of = char_index_of_bytes(text)
        tokens: list[Token] = []
        for p in reversed(proto.pieces):  # p.begin / p.end: byte offsets into the original input
            start = char_of[p.begin]
            end = char_of[p.end - 1] + 1 if p.end > p.begin else start
            if self.sp.is_byte(p.id):
                kind, raw = "byte_fallback", bytes([int(p.piece[3:5], 16)])
                if start == end and tokens and tokens[0].kind == "byte_fallback":
                    # the leading bytes of a character: SentencePiece reports its span on the
                    # last byte only; give every byte of the character that span
                    start, end = tokens[0].start, tokens[0].end
            elif p.id == self.sp.unk_id():
                kind, raw = "unknown", p.surface.encode("utf-8")
            else:
                kind, raw = "normal", p.piece.replace("\u2581", " ").encode("utf-8")
            tokens.insert(0, Token(p.id, p.piece, raw, start, end, kind))
        return tokens

    def vocab_size(self) -> int:
        return self.sp.get_piece_size()


HUB_PREFIX = "hub:"


def embedded_keys() -> list[str]:
    return [asset.key for asset in assets.of_kind("tokenizer")]


def title_of(key: str) -> str:
    if key.startswith(HUB_PREFIX):
        return f"{key.removeprefix(HUB_PREFIX)} (Hub)"
    return assets.get(key).title


def wrap(key: str, title: str, library_object) -> TextTokenizer:
    """Pick the wrapper that fits a library object."""
    kind = type(library_object).__module__.split(".")[0]
    if kind == "tiktoken":
        return TiktokenTokenizer(key, title, library_object)
    if kind == "sentencepiece":
        return SentencePieceTokenizer(key, title, library_object)
    if not getattr(library_object, "is_fast", False):
        raise assets.AssetError(f"{title} has no fast (Rust) tokenizer, which this tab needs for character offsets.")
    return HFTokenizer(key, title, library_object)


def get_tokenizer(key: str, prefer_hub: bool = False) -> tuple[TextTokenizer, str | None]:
    """The tokenizer `key` ('gpt2', ..., or 'hub:owner/name') and a notice, if any, to show."""
    if key.startswith(HUB_PREFIX):
        return wrap(key, title_of(key), assets.load_hub("tokenizer", key.removeprefix(HUB_PREFIX))), None
    loaded = assets.load(key, prefer_hub=prefer_hub)
    title = title_of(key) + (" (Hub)" if loaded.origin == "hub" else "")
    return wrap(key, title, loaded.value), loaded.notice


def comparable_span(text: str, token: Token) -> tuple[int, int]:
    """A token's span without surrounding whitespace, so ' the' (GPT-2) and 'the' (BERT) agree."""
    start, end = token.start, token.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def differing_tokens(encodings: list[Encoding]) -> list[set[int]]:
    """For each encoding, the indices of tokens whose span some other tokenizer splits differently."""
    spans = [[comparable_span(e.text, t) for t in e.tokens] for e in encodings]
    span_sets = [set(s) for s in spans]
    result = []
    for n, own in enumerate(spans):
        others = [span_sets[m] for m in range(len(spans)) if m != n]
        result.append({i for i, span in enumerate(own) if any(span not in other for other in others)})
    return result


def tokens_per_100_chars(tokenizers: list[TextTokenizer], samples: dict[str, str]) -> dict[str, dict[str, float]]:
    """Token density of each sample under each tokenizer (lower = the tokenizer compresses better)."""
    return {
        tok.title: {name: 100.0 * len(tok.encode(text)) / max(len(text), 1) for name, text in samples.items()}
        for tok in tokenizers
    }
