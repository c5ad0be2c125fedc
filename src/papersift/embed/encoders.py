"""The encoders: an :class:`Embedder` turns texts into unit vectors; ONNX models run on onnxruntime's CPU
provider (:class:`OnnxEmbedder`), sentence-transformers models on their own library.

Why the int8 path runs one text per ``session.run``: dynamic quantisation picks the activation
range per run, so a batch-mate would change a text's vector. One text per run keeps every vector
independent of its batch (deterministic, safe to cache by name); on CPU it is as fast as padded
batches (no padding to compute) and needs about half the memory. Texts of fewer than
``EXACT_BELOW_TOKENS`` tokens (one- or two-word queries) go through the fp32 graph instead: with only
[CLS]/[SEP] and a word or two, int8 drops to about 0.98 cosine, and such texts cost next to nothing
in fp32 (that graph is loaded on the first such text).

Why many texts run on several single-threaded workers: a row of at most 256 tokens is too small a job to
split well across cores (onnxruntime's intra-op threads wait on each other at every layer), so a bulk
embedding (indexing, a backfill) runs whole rows side by side instead, each worker on its own core with a
session of one thread. The vectors are the same (each row is still one run of the same graph); a short
call (a query) keeps the multi-threaded session, which answers one text sooner.

On a GPU (``device="cuda"``, with the onnxruntime-gpu package): padded batches of ``GPU_BATCH`` texts
through the CUDA provider, float32 throughout (no TF32), so the vectors are those of the same graph on the
CPU up to rounding. The int8 graph's kernels exist on the CPU only, so it is not offered there. When CUDA
cannot be used (the CPU package, no GPU, no driver) the embedder says so once and runs on the CPU.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from papersift.config import environment_value
from papersift.embed.bert_graph import SESSION_DISABLED_OPTIMIZERS
from papersift.errors import BadInput, Unavailable

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
EXACT_BELOW_TOKENS = 8
BULK_FROM = 8  # texts in one call from which the int8 path runs rows side by side (the workers)
DEVICES = ("cpu", "cuda")
GPU_BATCH = 128  # texts per run on a GPU: attention probabilities of 128 x 12 x 256 x 256 floats, 400 MB
CUDA = "CUDAExecutionProvider"

log = logging.getLogger(__name__)

Progress = Callable[[int], None] | None


class Embedder:
    """``name`` (the key vectors are cached under), ``dim``, and ``embed`` -> float32 [n, dim], unit rows."""

    name: str
    dim: int
    device: str = "cpu"  # where it runs: what was asked for, unless that could not be used
    step: int = 32  # texts a bulk caller (indexing) embeds, and caches, at a time: under a second on 2 cores

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


def providers(device: str) -> list:
    """onnxruntime's providers for ``device``: CUDA first (float32 matrix products, no TF32) where asked for
    and installed, the CPU always (as the fallback of every node CUDA lacks)."""
    import onnxruntime as ort

    if device not in DEVICES:
        raise BadInput(f"unknown embedding device {device!r}: use one of {', '.join(DEVICES)}")
    if device == "cuda" and CUDA in ort.get_available_providers():
        return [(CUDA, {"use_tf32": "0"}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _session(path: Path, ours: bool = False, intra_threads: int | None = None, device: str = "cpu"):
    """An onnxruntime session on ``device`` (the CPU where CUDA is not available); ``ours``: a graph built
    here (disables the slower SkipLayerNorm fusion)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads(intra_threads)
    opts.inter_op_num_threads = 1
    # idle intra-op threads would spin waiting for work: under concurrent requests on 2 cores that spin
    # steals the other request's core (-21% server CPU per request without it: docs/BENCHMARKS.md, load test)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    chosen = providers(device)  # an unknown device is the caller's mistake, not the model's
    try:
        return ort.InferenceSession(str(path), opts, providers=chosen,
                                    disabled_optimizers=SESSION_DISABLED_OPTIMIZERS if ours else None)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        if device == "cuda":  # e.g. a CUDA library the provider needs is missing: the CPU still works
            log.warning("the CUDA provider failed to start (%s)", str(exc)[:300])
            return _session(path, ours, intra_threads)
        raise BadInput(f"cannot load ONNX model {path}: {exc}") from exc


class OnnxEmbedder(Embedder):
    """Runs an ONNX model with inputs ``input_ids``/``attention_mask`` (``token_type_ids`` optional)."""

    def __init__(self, name: str, model: Path, tokenizer: Path, max_tokens: int = MAX_TOKENS,
                 row_wise: bool = False, exact: Path | None = None, exact_below: int = EXACT_BELOW_TOKENS,
                 ours: bool = False, threads: int | None = None, device: str = "cpu"):
        from tokenizers import Tokenizer

        if device == "cuda" and row_wise:
            raise BadInput(f"{name} runs int8 kernels that exist on the CPU only: embed on a GPU with minilm-fp32 "
                           "or onnx:PATH (a new embedder: the corpus is embedded again)")
        self.name, self.max_tokens, self.row_wise, self._threads = name, max_tokens, row_wise, threads
        self.session = _session(model, ours, threads, device)
        self.device = "cuda" if CUDA in self.session.get_providers() else "cpu"
        if device != self.device:
            log.warning("embedding on the CPU: CUDA is not usable here (%s)", _why_no_cuda())
        if self.device == "cuda":
            self.step = 4 * GPU_BATCH
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()  # we pad per batch ourselves
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self._exact_path, self._exact, self.exact_below = exact, None, exact_below
        self._lock = threading.Lock()
        self._model_path, self._ours = model, ours
        # (a session of one thread, the workers that share it), made on the first bulk call
        self._bulk: tuple[object, ThreadPoolExecutor] | None = None
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

    def _exact_session(self, path: Path):
        with self._lock:
            if self._exact is None:
                self._exact = _session(path, ours=True, intra_threads=self._threads)
        return self._exact

    def embed(self, texts: list[str], batch_size: int = 32, progress: Progress = None) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch
        batch_size = GPU_BATCH if self.device == "cuda" else max(1, int(batch_size))
        bulk = self._bulk_workers() if self.row_wise and len(texts) >= BULK_FROM else None
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            rows = [e.ids for e in self.tokenizer.encode_batch([texts[i] for i in idx])]
            if bulk is not None:
                session, pool = bulk
                out[idx] = np.vstack(list(pool.map(self._row, rows, [session] * len(rows))))
            elif self.row_wise:
                for i, r in zip(idx, rows, strict=False):
                    out[i] = self._row(r, self.session)
            else:
                out[idx] = self._run(self.session, rows)
            if progress is not None:
                progress(len(idx))
        return out

    def _row(self, row: list[int], session) -> np.ndarray:
        """One text's vector: the exact graph for a text of a few tokens, else ``session``."""
        if len(row) < self.exact_below and self._exact_path is not None:
            return self._run(self._exact_session(self._exact_path), [row])[0]
        return self._run(session, [row])[0]

    def _bulk_workers(self):
        """A one-thread session and one worker per core it may use (None with a single core: the plain
        session already is that)."""
        workers = threads(self._threads)
        if workers < 2:
            return None
        with self._lock:
            if self._bulk is None:
                self._bulk = (_session(self._model_path, self._ours, intra_threads=1),
                              ThreadPoolExecutor(workers, thread_name_prefix="embed"))
        return self._bulk


def _why_no_cuda() -> str:
    import onnxruntime as ort

    if CUDA not in ort.get_available_providers():
        return (f"onnxruntime {ort.__version__} has no CUDA provider: pip install onnxruntime-gpu in place of "
                "onnxruntime")
    return "the CUDA provider did not start: see onnxruntime's log for the driver or library it missed"


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
