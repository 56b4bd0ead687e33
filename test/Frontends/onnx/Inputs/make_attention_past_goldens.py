#!/usr/bin/env python3
"""Writes two small attention-with-past-KV models and PyTorch goldens.

Run once (torch, numpy, onnx); its outputs are checked in beside it and the
tests never run it.

  make_attention_past_goldens.py [OUT_DIR]   (default: this script's dir)

Both models take q [1, 3, 32] (4 heads of 8), k and v [1, 3, 16] (2 KV
heads) and past_key/past_value [1, 2, 5, 8]: 3 new tokens after 5 cached
positions. The goldens are computed here in torch from the ops' specs, not
by any ONNX runtime:

  attention_opset23_past.onnxtext   ai.onnx Attention (opset 23):
      y1, present_key, present_value = is_causal (query i sees keys up to
          5 + i, the ONNX reference's alignment after past_key);
      y2 = a constant bool attn_mask, a sliding window of 4 keys at the
          queries' positions, scale 0.2;
      y3 = a constant additive (0 / -inf) causal attn_mask;
      y4, present_key4, present_value4 = y1's attention on 4-D
          [B, H, T, D] inputs q4, k4, v4 (the same numbers).
  gqa_past.onnxtext                 com.microsoft GroupQueryAttention
      (seqlens_k = 7, total_sequence_length = 8: no padding):
      y1, present_key, present_value = do_rotary (half-split pairs,
          positions 5..7, theta 10000 caches), causal;
      y2 = do_rotary with interleaved pairs, local_window_size 2 (the
          query's key and 2 before it);
      y3 = y1's attention with Q, K, V packed into one qkv input.

Beside each NAME.onnxtext: NAME.test_data_set/ with input_N.pb (graph
inputs in order, random N(0, 1)) and output_N.pb (graph outputs in order).
"""

import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch

HEADS, KV_HEADS, HEAD_DIM = 4, 2, 8
PAST, NEW = 5, 3
TOTAL = PAST + NEW
THETA = 10000.0
CACHE_ROWS = 16
MINUS_INF = "-3.4028234663852886e+38"


def attention(q, k, v, allowed, scale=None):
    """Packed q [B, T, H*D], k/v [B, L, Hkv*D] (past already prepended),
    allowed [T, L] bool -> [B, T, H*D]; query head h reads KV head
    h // (H / Hkv)."""
    b, t, _ = q.shape
    length = k.shape[1]
    q4 = q.view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
    k4 = k.view(b, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
    v4 = v.view(b, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
    k4 = k4.repeat_interleave(HEADS // KV_HEADS, dim=1)
    v4 = v4.repeat_interleave(HEADS // KV_HEADS, dim=1)
    if scale is None:
        scale = HEAD_DIM ** -0.5
    scores = (q4 @ k4.transpose(-1, -2)) * scale
    scores = scores.masked_fill(~allowed, float("-inf"))
    y = torch.softmax(scores, dim=-1) @ v4
    return y.transpose(1, 2).reshape(b, t, HEADS * HEAD_DIM)


def heads(x, num_heads):
    """[B, T, H*D] -> [B, H, T, D]."""
    b, t, _ = x.shape
    return x.view(b, t, num_heads, HEAD_DIM).transpose(1, 2)


def packed(x4):
    """[B, H, T, D] -> [B, T, H*D]."""
    b, h, t, d = x4.shape
    return x4.transpose(1, 2).reshape(b, t, h * d)


def allowed_mask(window=None):
    """[NEW, TOTAL]: query i at position PAST + i sees key j <= PAST + i
    (and, with a window w, j > PAST + i - w)."""
    p = torch.arange(PAST, TOTAL)[:, None]
    j = torch.arange(TOTAL)[None, :]
    allowed = j <= p
    if window is not None:
        allowed &= p - j < window
    return allowed


def rope_caches():
    inv = THETA ** (-torch.arange(0, HEAD_DIM, 2, dtype=torch.float64)
                    / HEAD_DIM)
    angles = torch.arange(CACHE_ROWS, dtype=torch.float64)[:, None] * inv
    return angles.cos().float(), angles.sin().float()


def rope(x, num_heads, cos_cache, sin_cache, interleaved):
    """ONNX Runtime's rotary embedding of packed x [B, T, H*D] at positions
    PAST..PAST+T-1 with half-width caches."""
    x4 = x.view(x.shape[0], x.shape[1], num_heads, HEAD_DIM)
    cos = cos_cache[PAST:PAST + x.shape[1]][None, :, None, :]
    sin = sin_cache[PAST:PAST + x.shape[1]][None, :, None, :]
    if interleaved:
        x1, x2 = x4[..., 0::2], x4[..., 1::2]
        out = torch.stack((x1 * cos - x2 * sin, x2 * cos + x1 * sin), -1)
        out = out.flatten(-2)
    else:
        half = HEAD_DIM // 2
        x1, x2 = x4[..., :half], x4[..., half:]
        out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), -1)
    return out.reshape(x.shape)


def literal(tensor):
    values = tensor.flatten().tolist()
    if tensor.dtype == torch.bool:
        return ", ".join("1" if v else "0" for v in values)
    return ", ".join(MINUS_INF if v == float("-inf") else "%.9g" % v
                     for v in values)


def write_case(out_dir, name, text, inputs, outputs):
    with open(os.path.join(out_dir, name + ".onnxtext"), "w") as f:
        f.write(text)
    data = os.path.join(out_dir, name + ".test_data_set")
    os.makedirs(data, exist_ok=True)
    for kind, tensors in (("input", inputs), ("output", outputs)):
        for index, (tensor_name, tensor) in enumerate(tensors):
            proto = onnx.numpy_helper.from_array(np.asarray(tensor), tensor_name)
            path = os.path.join(data, "%s_%d.pb" % (kind, index))
            with open(path, "wb") as f:
                f.write(proto.SerializeToString())
    print("%s: %d inputs, %d outputs" % (name, len(inputs), len(outputs)))


HEADER = """\
# Generated by make_attention_past_goldens.py (see there); goldens in
# {name}.test_data_set.
<
  ir_version: {ir},
  opset_import: [{opsets}]
>
"""


def make_inputs(gen):
    def randn(*shape):
        return torch.randn(*shape, generator=gen)
    return (randn(1, NEW, HEADS * HEAD_DIM), randn(1, NEW, KV_HEADS * HEAD_DIM),
            randn(1, NEW, KV_HEADS * HEAD_DIM),
            randn(1, KV_HEADS, PAST, HEAD_DIM),
            randn(1, KV_HEADS, PAST, HEAD_DIM))


def opset23_case(out_dir, gen):
    q, k, v, pk, pv = make_inputs(gen)
    keys = torch.cat((packed(pk), k), 1)
    values = torch.cat((packed(pv), v), 1)
    present_key = torch.cat((pk, heads(k, KV_HEADS)), 2)
    present_value = torch.cat((pv, heads(v, KV_HEADS)), 2)
    y1 = attention(q, keys, values, allowed_mask())
    window = allowed_mask(window=4)
    y2 = attention(q, keys, values, window, scale=0.2)
    y3 = attention(q, keys, values, allowed_mask())
    additive = torch.zeros(1, 1, NEW, TOTAL).masked_fill(
        ~allowed_mask(), float("-inf"))
    text = HEADER.format(name="attention_opset23_past", ir=10,
                         opsets='"" : 23') + f"""\
attn (float[1, {NEW}, 32] q, float[1, {NEW}, 16] k, float[1, {NEW}, 16] v, float[1, 2, {PAST}, 8] past_key, float[1, 2, {PAST}, 8] past_value, float[1, 4, {NEW}, 8] q4, float[1, 2, {NEW}, 8] k4, float[1, 2, {NEW}, 8] v4) => (float[1, {NEW}, 32] y1, float[1, 2, {TOTAL}, 8] present_key, float[1, 2, {TOTAL}, 8] present_value, float[1, {NEW}, 32] y2, float[1, {NEW}, 32] y3, float[1, 4, {NEW}, 8] y4, float[1, 2, {TOTAL}, 8] present_key4, float[1, 2, {TOTAL}, 8] present_value4)
  <bool[{NEW}, {TOTAL}] window = {{{literal(window)}}},
   float[1, 1, {NEW}, {TOTAL}] additive = {{{literal(additive)}}}>
{{
  y1, present_key, present_value = Attention <q_num_heads = 4, kv_num_heads = 2, is_causal = 1> (q, k, v, , past_key, past_value)
  y2 = Attention <q_num_heads = 4, kv_num_heads = 2, scale = 0.2> (q, k, v, window, past_key, past_value)
  y3 = Attention <q_num_heads = 4, kv_num_heads = 2> (q, k, v, additive, past_key, past_value)
  y4, present_key4, present_value4 = Attention <is_causal = 1> (q4, k4, v4, , past_key, past_value)
}}
"""
    write_case(out_dir, "attention_opset23_past", text,
               [("q", q), ("k", k), ("v", v), ("past_key", pk),
                ("past_value", pv), ("q4", heads(q, HEADS)),
                ("k4", heads(k, KV_HEADS)), ("v4", heads(v, KV_HEADS))],
               [("y1", y1), ("present_key", present_key),
                ("present_value", present_value), ("y2", y2), ("y3", y3),
                ("y4", heads(y1, HEADS)), ("present_key4", present_key),
                ("present_value4", present_value)])


def gqa_case(out_dir, gen):
    q, k, v, pk, pv = make_inputs(gen)
    cos_cache, sin_cache = rope_caches()
    outputs = []
    for interleaved, window in ((False, None), (True, 2)):
        rq = rope(q, HEADS, cos_cache, sin_cache, interleaved)
        rk = rope(k, KV_HEADS, cos_cache, sin_cache, interleaved)
        keys = torch.cat((packed(pk), rk), 1)
        values = torch.cat((packed(pv), v), 1)
        allowed = allowed_mask(None if window is None else window + 1)
        outputs.append((attention(rq, keys, values, allowed),
                        torch.cat((pk, heads(rk, KV_HEADS)), 2),
                        torch.cat((pv, heads(v, KV_HEADS)), 2)))
    text = HEADER.format(name="gqa_past", ir=8,
                         opsets='"" : 17, "com.microsoft" : 1') + f"""\
gqa (float[1, {NEW}, 32] q, float[1, {NEW}, 16] k, float[1, {NEW}, 16] v, float[1, 2, {PAST}, 8] past_key, float[1, 2, {PAST}, 8] past_value, int32[1] seqlens_k, int32 total_sequence_length, float[1, {NEW}, 64] qkv) => (float[1, {NEW}, 32] y1, float[1, 2, {TOTAL}, 8] present_key, float[1, 2, {TOTAL}, 8] present_value, float[1, {NEW}, 32] y2, float[1, {NEW}, 32] y3)
  <float[{CACHE_ROWS}, 4] cos_cache = {{{literal(cos_cache)}}},
   float[{CACHE_ROWS}, 4] sin_cache = {{{literal(sin_cache)}}}>
{{
  y1, present_key, present_value = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2, do_rotary = 1> (q, k, v, past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache)
  y2, unused_key, unused_value = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2, do_rotary = 1, rotary_interleaved = 1, local_window_size = 2> (q, k, v, past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache)
  y3, packed_key, packed_value = com.microsoft.GroupQueryAttention <num_heads = 4, kv_num_heads = 2, do_rotary = 1> (qkv, , , past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache)
}}
"""
    write_case(out_dir, "gqa_past", text,
               [("q", q), ("k", k), ("v", v), ("past_key", pk),
                ("past_value", pv),
                ("seqlens_k", torch.tensor([TOTAL - 1], dtype=torch.int32)),
                ("total_sequence_length",
                 torch.tensor(TOTAL, dtype=torch.int32)),
                ("qkv", torch.cat((q, k, v), -1))],
               [("y1", outputs[0][0]), ("present_key", outputs[0][1]),
                ("present_value", outputs[0][2]), ("y2", outputs[1][0]),
                ("y3", outputs[0][0])])


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(23)
    with torch.no_grad():
        opset23_case(out_dir, gen)
        gqa_case(out_dir, gen)


if __name__ == "__main__":
    main()
