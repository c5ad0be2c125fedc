"""Which embedder a spec names, loaded once per process.

Specs for :func:`load_embedder` (the ``embedder`` setting, ``PAPERSIFT_EMBEDDER``):

* ``minilm`` (default): int8 weights (per channel), fused graph, 256-token truncation.
* ``minilm-fp32``: the same graph unquantised.
* ``onnx:PATH`` / ``onnx:PATH:TOKENIZER_JSON``: your own ONNX model. Token outputs [b, s, h] are
  mean-pooled over the mask; sentence outputs [b, h] are only normalised.
* ``st:NAME``: a sentence-transformers model (needs ``sentence-transformers`` installed).
"""

from __future__ import annotations

import threading
from pathlib import Path

from papersift.config import environment_value
from papersift.embed.encoders import Embedder, OnnxEmbedder, SentenceTransformerEmbedder
from papersift.embed.minilm import cache_dir, file_sha256, minilm, model_dir
from papersift.errors import BadInput

DEFAULT_SPEC = "minilm"
VALID_SPECS = "minilm, minilm-fp32, onnx:PATH[:TOKENIZER_JSON], st:NAME"


def _user_onnx(rest: str, threads: int | None = None, device: str = "cpu") -> OnnxEmbedder:
    model_s, tok_s = rest, None
    head, sep, tail = rest.rpartition(":")
    if sep and tail.lower().endswith(".json"):
        model_s, tok_s = head, tail
    model = Path(model_s).expanduser()
    if not model_s or not model.is_file():
        raise BadInput(f"onnx: model file not found: {model_s!r} (spec onnx:PATH[:TOKENIZER_JSON])")
    if tok_s:
        tokenizer = Path(tok_s).expanduser()
    elif (model.parent / "tokenizer.json").is_file():
        tokenizer = model.parent / "tokenizer.json"
    else:  # e.g. a MiniLM export shipped without its tokenizer
        tokenizer = model_dir() / "tokenizer.json"
    if not tokenizer.is_file():
        raise BadInput(f"onnx: tokenizer file not found: {tokenizer}")
    return OnnxEmbedder(f"onnx:{model.stem}-{file_sha256(model)[:12]}", model, tokenizer, threads=threads,
                        device=device)


_loaded: dict[tuple[str, str, int, str], Embedder] = {}
_loaded_lock = threading.Lock()


def load_embedder(spec: str | None = None, *, threads: int | None = None, cache: str | None = None,
                  device: str | None = None) -> Embedder:
    """An embedder for ``spec``, run on ``threads`` (or ``device`` cuda) with graphs cached under ``cache``
    (each None: its setting from the environment); one object per spec, threads, cache and device per process."""
    spec = (spec or environment_value("embedder") or DEFAULT_SPEC).strip()
    cache = environment_value("cache") if cache is None else cache
    threads = environment_value("threads") if threads is None else threads
    device = (environment_value("embed_device") if device is None else device) or "cpu"
    key = (spec, str(cache_dir(cache)), threads, device)
    with _loaded_lock:
        if key not in _loaded:
            _loaded[key] = _make(spec, threads, cache, device)
        return _loaded[key]


def _make(spec: str, threads: int | None = None, cache: str | None = None, device: str = "cpu") -> Embedder:
    if spec == "minilm":
        return minilm("int8", threads=threads, cache=cache, device=device)
    if spec == "minilm-fp32":
        return minilm("fp32", threads=threads, cache=cache, device=device)
    if spec.startswith("onnx:"):
        return _user_onnx(spec[len("onnx:"):], threads, device)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip())
    raise BadInput(f"unknown embedder {spec!r}; valid: {VALID_SPECS}")
