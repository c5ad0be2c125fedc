"""Build a BERT sentence-embedding ONNX graph straight from safetensors weights (no torch).

Two layouts of the same maths:

* ``fused=False``: standard ONNX ops only (opset 17): Gather, Add, LayerNormalization, MatMul,
  Reshape/Transpose, Softmax, Erf, ReduceSum... (the reference graph of the tests and the bench).
* ``fused=True``: attention and GELU as onnxruntime CPU contrib ops (com.microsoft Attention,
  BiasGelu): what onnxruntime's transformer optimizer would produce, built directly (that optimizer
  needs sympy, which papersift does not depend on). ``quantize_dynamic`` turns its Attention into
  int8 QAttention, which makes the int8 graph about twice as fast as int8 of the plain graph.

Inputs ``input_ids`` / ``attention_mask`` int64 [batch, seq]; output ``sentence_embedding``
float32 [batch, hidden]: mean over the attention mask, L2-normalised. Token-type embeddings are
folded into the position table (all token-type ids are 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnx import NodeProto, TensorProto

OPSET = 17
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
OUTPUT = "sentence_embedding"
MS_DOMAIN = "com.microsoft"
SESSION_DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]  # pass to InferenceSession for the fused graphs


@dataclass(frozen=True)
class BertConfig:
    num_layers: int = 6
    hidden: int = 384
    heads: int = 12
    intermediate: int = 1536
    eps: float = 1e-12
    vocab: int = 30522
    max_positions: int = 512

    @classmethod
    def from_json(cls, cfg: dict) -> "BertConfig":
        return cls(num_layers=cfg["num_hidden_layers"], hidden=cfg["hidden_size"],
                   heads=cfg["num_attention_heads"], intermediate=cfg["intermediate_size"],
                   eps=float(cfg.get("layer_norm_eps", 1e-12)), vocab=cfg["vocab_size"],
                   max_positions=cfg["max_position_embeddings"])


def strip_prefix(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Accept both ``bert.embeddings...`` and ``embeddings...`` key layouts."""
    return {(k[5:] if k.startswith("bert.") else k): v for k, v in weights.items()}


def probe_names(cfg: BertConfig) -> dict[str, str]:
    """Activation tensor name -> the Linear (weights key prefix) it feeds, per layer of the fused graph."""
    out = {}
    for i in range(cfg.num_layers):
        p = f"encoder.layer.{i}."
        out[f"layer{i}.input"] = p + "attention.self."  # query/key/value
        out[f"layer{i}.attention_out"] = p + "intermediate.dense"
        out[f"layer{i}.gelu"] = p + "output.dense"
    return out


class _Graph:
    def __init__(self, weights: dict[str, np.ndarray]):
        self.w = strip_prefix(weights)
        self.nodes: list[NodeProto] = []
        self.inits: list[TensorProto] = []
        self._n = 0

    def f32(self, key: str) -> np.ndarray:
        return np.asarray(self.w[key], dtype=np.float32)

    def const(self, name: str, array) -> str:
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, **attrs) -> str:
        from onnx import helper
        self._n += 1
        out = name or f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{op_type}_{self._n}", **attrs))
        return out

    def layer_norm(self, inp: str, key: str, eps: float, name: str | None = None) -> str:
        return self.op("LayerNormalization", [inp, self.const(key + ".weight", self.f32(key + ".weight")),
                                              self.const(key + ".bias", self.f32(key + ".bias"))],
                       name, axis=-1, epsilon=eps)


def build_bert_graph(weights: dict[str, np.ndarray], cfg: BertConfig = BertConfig(), *, fused: bool = False,
                     smooth: dict[str, np.ndarray] | None = None, probes: bool = False):
    """Return an ``onnx.ModelProto`` computing normalised mean-pooled sentence embeddings.

    ``smooth`` (fused only): activation name (see :func:`probe_names`) -> per-channel divisor.
    ``probes`` (fused only): also output those activations, for calibration.
    """
    from onnx import TensorProto, helper

    g = _Graph(weights)
    axes1 = g.const("axes_1", np.array([1], np.int64))
    axes2 = g.const("axes_2", np.array([2], np.int64))
    zero1 = g.const("zero_1", np.array([0], np.int64))

    # embeddings: word + (position + token_type[0])[:seq], then LayerNorm
    word = g.const("embeddings.word_embeddings.weight", g.f32("embeddings.word_embeddings.weight"))
    pos_table = g.f32("embeddings.position_embeddings.weight") + g.f32("embeddings.token_type_embeddings.weight")[0]
    pos = g.const("embeddings.position_embeddings.weight", pos_table)
    seq_len = g.op("Shape", [INPUT_IDS], "seq_len", start=1, end=2)
    x = g.op("Add", [g.op("Gather", [word, INPUT_IDS], "word_gather"),
                     g.op("Slice", [pos, zero1, seq_len, zero1], "position_slice")])
    x = g.layer_norm(x, "embeddings.LayerNorm", cfg.eps, "layer0.input" if fused else None)

    if fused:
        mask_i32 = g.op("Cast", [ATTENTION_MASK], "mask_int32", to=TensorProto.INT32)
        for i in range(cfg.num_layers):
            x = _fused_layer(g, x, i, cfg, mask_i32, smooth or {})
    else:
        m = g.op("Unsqueeze", [g.op("Unsqueeze", [ATTENTION_MASK, axes1]), axes2])  # [b, 1, 1, s]
        one = g.const("one", np.array(1.0, np.float32))
        additive_mask = g.op("Mul", [g.op("Sub", [one, g.op("Cast", [m], to=TensorProto.FLOAT)]),
                                     g.const("mask_value", np.array(-10000.0, np.float32))], "additive_mask")
        for i in range(cfg.num_layers):
            x = _plain_layer(g, x, i, cfg, additive_mask, one)

    # mean pooling over the mask, then L2 normalisation
    mf = g.op("Cast", [ATTENTION_MASK], to=TensorProto.FLOAT)
    summed = g.op("ReduceSum", [g.op("Mul", [x, g.op("Unsqueeze", [mf, axes2])]), axes1], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [mf, axes1], keepdims=1), g.const("eps_count", np.array(1e-9, np.float32))])
    mean = g.op("Div", [summed, count])
    norm = g.op("Max", [g.op("ReduceL2", [mean], axes=[1], keepdims=1),
                        g.const("eps_norm", np.array(1e-12, np.float32))])
    g.op("Div", [mean, norm], OUTPUT)

    outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", cfg.hidden])]
    if probes and fused:
        outputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in probe_names(cfg)]
    graph = helper.make_graph(
        g.nodes, "bert_sentence_embedding",
        [helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "sequence"])],
        outputs, initializer=g.inits)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS_DOMAIN, 1)] if fused else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="papersift")
    model.ir_version = 8
    return model


def _plain_layer(g: _Graph, x: str, i: int, cfg: BertConfig, additive_mask: str, one: str) -> str:
    """One encoder layer in standard ONNX ops, in the node pattern of a Hugging Face export."""
    p, hd = f"encoder.layer.{i}.", cfg.hidden // cfg.heads
    heads_shape = g.const(f"{p}heads_shape", np.array([0, 0, cfg.heads, hd], np.int64))

    def linear(inp: str, key: str) -> str:  # torch Linear stores [out, in]: transpose for MatMul
        w = g.const(key + ".weight_t", g.f32(key + ".weight").T)
        return g.op("Add", [g.op("MatMul", [inp, w]), g.const(key + ".bias", g.f32(key + ".bias"))])

    def heads(key: str, perm: list[int]) -> str:
        return g.op("Transpose", [g.op("Reshape", [linear(x, p + "attention.self." + key), heads_shape])], perm=perm)

    q, k, v = heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1]), heads("value", [0, 2, 1, 3])
    scores = g.op("Div", [g.op("MatMul", [q, k]), g.const(f"{p}scale", np.array(math.sqrt(hd), np.float32))])
    probs = g.op("Softmax", [g.op("Add", [scores, additive_mask])], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, g.const(f"{p}merge_shape", np.array([0, 0, cfg.hidden], np.int64))])
    attn = linear(ctx, p + "attention.output.dense")
    x = g.layer_norm(g.op("Add", [attn, x]), p + "attention.output.LayerNorm", cfg.eps)
    inter = linear(x, p + "intermediate.dense")  # exact GELU: x * 0.5 * (1 + erf(x / sqrt 2))
    erf = g.op("Erf", [g.op("Div", [inter, g.const(f"{p}sqrt2", np.array(math.sqrt(2.0), np.float32))])])
    gelu = g.op("Mul", [g.op("Mul", [inter, g.op("Add", [erf, one])]), g.const(f"{p}half", np.array(0.5, np.float32))])
    return g.layer_norm(g.op("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm", cfg.eps)


def _fused_layer(g: _Graph, x: str, i: int, cfg: BertConfig, mask_i32: str, smooth: dict[str, np.ndarray]) -> str:
    """Attention -> MatMul -> Add+LayerNorm -> MatMul -> BiasGelu -> MatMul -> Add+LayerNorm."""
    p = f"encoder.layer.{i}."
    last = i == cfg.num_layers - 1

    def smoothed(act: str, w: np.ndarray) -> tuple[str, np.ndarray]:
        if act not in smooth or np.all(smooth[act] == 1.0):
            return act, w
        s = np.asarray(smooth[act], np.float32)
        return g.op("Mul", [act, g.const(act + ".smooth_inv", 1.0 / s)]), w * s[:, None]

    qkv = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
    inp, w_qkv = smoothed(x, np.concatenate([g.f32(k + ".weight").T for k in qkv], axis=1))
    b_qkv = g.const(p + "attention.qkv.bias", np.concatenate([g.f32(k + ".bias") for k in qkv]))
    ctx = g.op("Attention", [inp, g.const(p + "attention.qkv.weight_t", w_qkv), b_qkv, mask_i32],
               domain=MS_DOMAIN, num_heads=cfg.heads)

    def dense_add_ln(act: str, residual: str, dense: str, ln: str, name: str) -> str:
        # MatMul + bias + residual + LayerNormalization. onnxruntime would fuse the adds into its
        # SkipLayerNormalization, whose CPU kernel measured 4x slower than Add + LayerNormalization
        # (ORT 1.32, AVX-512): sessions disable that fusion (SESSION_DISABLED_OPTIMIZERS).
        inp, w = smoothed(act, g.f32(dense + ".weight").T)
        mm = g.op("Add", [g.op("MatMul", [inp, g.const(dense + ".weight_t", w)]),
                          g.const(dense + ".bias", g.f32(dense + ".bias"))])
        return g.layer_norm(g.op("Add", [mm, residual]), ln, cfg.eps, name)

    x = dense_add_ln(ctx, x, p + "attention.output.dense", p + "attention.output.LayerNorm", f"layer{i}.attention_out")
    inp, w = smoothed(x, g.f32(p + "intermediate.dense.weight").T)
    mm = g.op("MatMul", [inp, g.const(p + "intermediate.dense.weight_t", w)])
    gelu = g.op("BiasGelu", [mm, g.const(p + "intermediate.dense.bias", g.f32(p + "intermediate.dense.bias"))],
                f"layer{i}.gelu", domain=MS_DOMAIN)
    return dense_add_ln(gelu, x, p + "output.dense", p + "output.LayerNorm",
                         "encoder_out" if last else f"layer{i + 1}.input")
