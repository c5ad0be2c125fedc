"""Build a BERT sentence-embedding ONNX graph straight from safetensors weights (no torch).

The graph follows the node pattern of a Hugging Face BERT export (separate Q/K/V MatMul+Add,
Reshape/Transpose, Div by sqrt(head_dim), additive mask built as Mul(Sub(1, Cast(Unsqueeze(
Unsqueeze(mask)))), -10000), erf GELU as Div/Erf/Add/Mul/Mul, Add+LayerNormalization) so that
onnxruntime's transformer optimizer can fuse it into Attention / SkipLayerNormalization / Gelu.

Inputs: ``input_ids`` int64 [batch, seq], ``attention_mask`` int64 [batch, seq].
Output: ``sentence_embedding`` float32 [batch, hidden]: mean over the attention mask, L2-normalised.
Token-type embeddings are folded into the position table (every token-type id is 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPSET = 17
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
OUTPUT = "sentence_embedding"
MS_DOMAIN = "com.microsoft"


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


class _Graph:
    def __init__(self):
        self.nodes, self.inits, self._n = [], [], 0

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


def build_bert_graph(weights: dict[str, np.ndarray], cfg: BertConfig = BertConfig(), fused: bool = False,
                     mask_value: float = -10000.0):
    """Return an ``onnx.ModelProto`` computing normalised mean-pooled sentence embeddings.

    ``fused=False`` emits standard ONNX ops only. ``fused=True`` emits onnxruntime's CPU contrib ops
    (com.microsoft Attention, SkipLayerNormalization, BiasGelu) for the encoder, i.e. the graph that
    onnxruntime's transformer optimizer would produce, built directly (that optimizer needs sympy).
    """
    from onnx import TensorProto, helper

    w = strip_prefix(weights)
    f32 = lambda k: np.asarray(w[k], dtype=np.float32)  # noqa: E731
    h, nh = cfg.hidden, cfg.heads
    hd = h // nh
    g = _Graph()

    # constants shared by every layer
    one = g.const("one", np.array(1.0, np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    scale = g.const("attn_scale", np.array(math.sqrt(hd), np.float32))
    neg = g.const("mask_value", np.array(mask_value, np.float32))
    heads_shape = g.const("heads_shape", np.array([0, 0, nh, hd], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, h], np.int64))
    axes1 = g.const("axes_1", np.array([1], np.int64))
    axes2 = g.const("axes_2", np.array([2], np.int64))
    zero1 = g.const("zero_1", np.array([0], np.int64))

    # embeddings: word + (position + token_type[0]) then LayerNorm
    word = g.const("embeddings.word_embeddings.weight", f32("embeddings.word_embeddings.weight"))
    pos_table = f32("embeddings.position_embeddings.weight") + f32("embeddings.token_type_embeddings.weight")[0]
    pos = g.const("embeddings.position_embeddings.weight", pos_table)
    seq_len = g.op("Shape", [INPUT_IDS], "seq_len", start=1, end=2)
    pos_sliced = g.op("Slice", [pos, zero1, seq_len, zero1], "position_slice")
    x = g.op("Add", [g.op("Gather", [word, INPUT_IDS], "word_gather"), pos_sliced])
    x = g.op("LayerNormalization", [x, g.const("emb_ln_w", f32("embeddings.LayerNorm.weight")),
                                    g.const("emb_ln_b", f32("embeddings.LayerNorm.bias"))],
             "embeddings_out", axis=-1, epsilon=cfg.eps)

    # additive mask [b, 1, 1, s]
    if not fused:
        m = g.op("Unsqueeze", [g.op("Unsqueeze", [ATTENTION_MASK, axes1]), axes2])
        m = g.op("Cast", [m], to=TensorProto.FLOAT)
        add_mask = g.op("Mul", [g.op("Sub", [one, m]), neg], "additive_mask")

    def linear(inp: str, key: str) -> str:
        wt = g.const(f"{key}.weight_t", f32(f"{key}.weight").T)  # Linear stores [out, in]
        return g.op("Add", [g.op("MatMul", [inp, wt]), g.const(f"{key}.bias", f32(f"{key}.bias"))])

    def layer_norm(inp: str, key: str) -> str:
        return g.op("LayerNormalization", [inp, g.const(f"{key}.weight", f32(f"{key}.weight")),
                                           g.const(f"{key}.bias", f32(f"{key}.bias"))], axis=-1, epsilon=cfg.eps)

    if fused:
        mask_i32 = g.op("Cast", [ATTENTION_MASK], "mask_int32", to=TensorProto.INT32)

    for i in range(cfg.num_layers):
        p = f"encoder.layer.{i}."
        if fused:
            x = _fused_layer(g, x, p, f32, cfg, mask_i32)
            continue
        q = g.op("Transpose", [g.op("Reshape", [linear(x, p + "attention.self.query"), heads_shape])],
                 perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [linear(x, p + "attention.self.key"), heads_shape])],
                 perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [linear(x, p + "attention.self.value"), heads_shape])],
                 perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Div", [g.op("MatMul", [q, k]), scale]), add_mask])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        attn = linear(ctx, p + "attention.output.dense")
        x = layer_norm(g.op("Add", [attn, x]), p + "attention.output.LayerNorm")
        inter = linear(x, p + "intermediate.dense")
        gelu = g.op("Mul", [g.op("Mul", [inter, g.op("Add", [g.op("Erf", [g.op("Div", [inter, sqrt2])]), one])]),
                            half])
        out = linear(gelu, p + "output.dense")
        x = layer_norm(g.op("Add", [out, x]), p + "output.LayerNorm")

    # mean pooling over the mask, then L2 normalisation
    mf = g.op("Cast", [ATTENTION_MASK], to=TensorProto.FLOAT)
    summed = g.op("ReduceSum", [g.op("Mul", [x, g.op("Unsqueeze", [mf, axes2])]), axes1], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [mf, axes1], keepdims=1), g.const("eps_count", np.array(1e-9, np.float32))])
    mean = g.op("Div", [summed, count])
    norm = g.op("Max", [g.op("ReduceL2", [mean], axes=[1], keepdims=1), g.const("eps_norm", np.array(1e-12, np.float32))])
    g.op("Div", [mean, norm], OUTPUT)

    graph = helper.make_graph(
        g.nodes, "bert_sentence_embedding",
        [helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", h])],
        initializer=g.inits)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS_DOMAIN, 1)] if fused else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="papersift")
    model.ir_version = 8
    return model


def _fused_layer(g: _Graph, x: str, p: str, f32, cfg: BertConfig, mask_i32: str) -> str:
    """One encoder layer as Attention -> MatMul -> SkipLayerNorm -> MatMul -> BiasGelu -> MatMul -> SkipLayerNorm."""
    qkv = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
    w_qkv = g.const(p + "attention.qkv.weight_t", np.concatenate([f32(k + ".weight").T for k in qkv], axis=1))
    b_qkv = g.const(p + "attention.qkv.bias", np.concatenate([f32(k + ".bias") for k in qkv]))
    ctx = g.op("Attention", [x, w_qkv, b_qkv, mask_i32], domain=MS_DOMAIN, num_heads=cfg.heads)

    def skip_ln(inp: str, dense: str, ln: str) -> str:
        mm = g.op("MatMul", [inp, g.const(dense + ".weight_t", f32(dense + ".weight").T)])
        return g.op("SkipLayerNormalization", [mm, x, g.const(ln + ".weight", f32(ln + ".weight")),
                                               g.const(ln + ".bias", f32(ln + ".bias")),
                                               g.const(dense + ".bias", f32(dense + ".bias"))],
                    domain=MS_DOMAIN, epsilon=cfg.eps)

    x = skip_ln(ctx, p + "attention.output.dense", p + "attention.output.LayerNorm")
    inter = p + "intermediate.dense"
    mm = g.op("MatMul", [x, g.const(inter + ".weight_t", f32(inter + ".weight").T)])
    gelu = g.op("BiasGelu", [mm, g.const(inter + ".bias", f32(inter + ".bias"))], domain=MS_DOMAIN)
    return skip_ln(gelu, p + "output.dense", p + "output.LayerNorm")


def fuse(src: Path, dst: Path, cfg: BertConfig = BertConfig()) -> None:
    """Run onnxruntime's BERT fusions (Attention, SkipLayerNormalization, BiasGelu)."""
    import logging

    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    opt = optimize_model(str(src), model_type="bert", num_heads=cfg.heads, hidden_size=cfg.hidden, opt_level=0)
    opt.save_model_to_file(str(dst))


def quantize(src: Path, dst: Path, per_channel: bool = True, embeddings: bool = False) -> None:
    """Dynamic int8 quantisation of the MatMul/Attention weights (and the word table if ``embeddings``)."""
    import logging

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic warns on the root logger
    ops = ["MatMul", "Attention"] + (["Gather"] if embeddings else [])
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=per_channel,
                     op_types_to_quantize=ops, extra_options={"DefaultTensorType": TensorProto.FLOAT})
