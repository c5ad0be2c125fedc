"""Int8 quantisation of the fused BERT graph (:mod:`papersift.embed.bert_graph`), with outlier smoothing.

Int8 accuracy: dynamic quantisation gives each activation tensor one scale, and BERT has a few hidden
channels far larger than the rest (up to 15x the median channel), which costs short texts most.
``smooth`` divides such channels of the QKV / FFN inputs by ``s`` (one Mul) and multiplies the
matching weight rows by ``s`` (SmoothQuant-style, Xiao et al. 2023): exact in real arithmetic, and
int8 error roughly halves. ``s`` comes from activation maxima on calibration texts
(:func:`smoothing_scales`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from papersift.embed.bert_graph import ATTENTION_MASK, INPUT_IDS, BertConfig, build_bert_graph, probe_names


def smoothing_scales(weights: dict[str, np.ndarray], cfg: BertConfig, batches: list[tuple[np.ndarray, np.ndarray]],
                     spread: float = 2.0) -> dict[str, np.ndarray]:
    """Per-channel divisors that bring outlier activation channels down to ``spread`` x the median channel.

    ``batches``: calibration (input_ids, attention_mask) int64 pairs, run through the fp32 fused graph
    with probe outputs. Only channels whose calibration max exceeds ``spread * median`` are touched
    (divisor > 1); the rest keep 1, so the weights' own int8 ranges change as little as possible.
    (Classic SmoothQuant ``max|X|^a / max|W|^(1-a)`` scales every channel and was worse here.)
    """
    import onnxruntime as ort

    model = build_bert_graph(weights, cfg, fused=True, probes=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = list(probe_names(cfg))
    amax: dict[str, np.ndarray] = {}
    for ids, mask in batches:
        valid = mask.astype(bool)
        for n, a in zip(names, sess.run(names, {INPUT_IDS: ids, ATTENTION_MASK: mask}), strict=False):
            m = np.abs(a[valid]).max(axis=0)
            amax[n] = np.maximum(amax[n], m) if n in amax else m
    return {n: np.maximum(1.0, a / (spread * np.median(a))).astype(np.float32) for n, a in amax.items()}


def quantize(src, dst: Path, per_channel: bool = True) -> None:
    """Dynamic int8 quantisation of the MatMul / Attention weights (the embedding tables stay fp32).

    ``src``: a path or an ``onnx.ModelProto``. Activations are quantised per run (per tensor).
    """
    import logging

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic warns about pre-processing on the root logger
    try:
        quantize_dynamic(src if not isinstance(src, Path) else str(src), str(dst), weight_type=QuantType.QInt8,
                         per_channel=per_channel, op_types_to_quantize=["MatMul", "Attention"],
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    finally:
        root.setLevel(level)


def build_int8(weights: dict[str, np.ndarray], cfg: BertConfig, calibration: list[tuple[np.ndarray, np.ndarray]] | None,
               dst: Path, per_channel: bool = True) -> None:
    """Fused graph, outlier channels smoothed on ``calibration`` (if given), int8-quantised into ``dst``."""
    smooth = smoothing_scales(weights, cfg, calibration) if calibration else None
    quantize(build_bert_graph(weights, cfg, fused=True, smooth=smooth), dst, per_channel=per_channel)
