#!/usr/bin/python3
"""Writes a GPT-2-124M-shaped model with random weights for bench/ort_compare.sh.

One set of weights (torch.manual_seed, so the output is deterministic) in
three forms, all into OUT_DIR (a scratch directory, never committed):

  hf/config.json, hf/model.safetensors
      a Hugging Face GPT-2 checkpoint (bare keys, Conv1D weights [in, out],
      fused c_attn, head tied to wte) as tvc-import's HF importer reads it.
  prefill.onnx
      input_ids, position_ids [1, T] -> logits [1, T, V] and the presents
      present.N.key / present.N.value [1, H, T, D]: a prompt without a cache.
  decode.onnx
      input_ids, position_ids [1, T] and past_key_values.N.key / .value
      [1, H, P, D] -> logits [1, T, V] and presents [1, H, P + T, D]: the
      cache is concatenated, as Hugging Face's GPT-2 and its ONNX exports do.
  sanity/
      a short prompt and its logits computed by this module in PyTorch:
      input_0.pb, input_1.pb, output_0.pb (ONNX TensorProto, for
      `tvc-run --expected`) and input_ids.json + logits.bin (for the ONNX
      Runtime script), so both engines are shown to run the same model.

Shape: 12 layers, d_model 768, 12 heads, vocab 50257, context 1024, FFN
3072, gelu_new (tanh), layer norm epsilon 1e-5. Needs Debian's
python3-torch, python3-onnx and python3-numpy (/usr/bin/python3):

    /usr/bin/python3 bench/make_gpt2_124m.py OUT_DIR [--layers N] [--seed S]
        [--width D --heads H --context C --ffn F] [--hf-only]

--width, --heads, --context and --ffn give other GPT-2 shapes (defaults:
the 124M shape above; FFN 4 * width unless given); --hf-only writes hf/
alone (no ONNX exports, no sanity/), which needs python3-torch only
(bench/gpu_bench.py uses it for its larger shapes).
"""

import argparse
import ctypes
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

VOCAB = 50257
CONTEXT = 1024
WIDTH = 768
HEADS = 12
LAYERS = 12
EPSILON = 1e-5
INIT_STD = 0.02
SANITY_LEN = 8


class Block(torch.nn.Module):
    """A GPT-2 block with HF's parameter names and layouts and an explicit
    KV cache: past keys/values are concatenated in front of this step's."""

    def __init__(self, d, heads, ffn=None):
        super().__init__()
        self.width, self.heads = d, heads
        ffn = ffn or 4 * d
        p = torch.nn.Parameter
        self.ln_1_weight, self.ln_1_bias = p(torch.empty(d)), p(torch.empty(d))
        self.c_attn_weight, self.c_attn_bias = p(torch.empty(d, 3 * d)), p(torch.empty(3 * d))
        self.attn_c_proj_weight, self.attn_c_proj_bias = p(torch.empty(d, d)), p(torch.empty(d))
        self.ln_2_weight, self.ln_2_bias = p(torch.empty(d)), p(torch.empty(d))
        self.c_fc_weight, self.c_fc_bias = p(torch.empty(d, ffn)), p(torch.empty(ffn))
        self.mlp_c_proj_weight, self.mlp_c_proj_bias = p(torch.empty(ffn, d)), p(torch.empty(d))

    def hf_tensors(self, prefix):
        """(key, tensor) in HF GPT-2 naming."""
        return [
            (prefix + "ln_1.weight", self.ln_1_weight),
            (prefix + "ln_1.bias", self.ln_1_bias),
            (prefix + "attn.c_attn.weight", self.c_attn_weight),
            (prefix + "attn.c_attn.bias", self.c_attn_bias),
            (prefix + "attn.c_proj.weight", self.attn_c_proj_weight),
            (prefix + "attn.c_proj.bias", self.attn_c_proj_bias),
            (prefix + "ln_2.weight", self.ln_2_weight),
            (prefix + "ln_2.bias", self.ln_2_bias),
            (prefix + "mlp.c_fc.weight", self.c_fc_weight),
            (prefix + "mlp.c_fc.bias", self.c_fc_bias),
            (prefix + "mlp.c_proj.weight", self.mlp_c_proj_weight),
            (prefix + "mlp.c_proj.bias", self.mlp_c_proj_bias),
        ]

    def forward(self, x, past_key=None, past_value=None):
        batch, length = x.shape[0], x.shape[1]
        # Python ints, not traced sizes: layer_norm and split need constants.
        d, heads = self.width, self.heads
        head_dim = d // heads
        h = F.layer_norm(x, (d,), self.ln_1_weight, self.ln_1_bias, EPSILON)
        qkv = h @ self.c_attn_weight + self.c_attn_bias
        q, k, v = qkv.split(d, dim=-1)

        def to_heads(t):
            return t.reshape(batch, length, heads, head_dim).transpose(1, 2)

        q, k, v = to_heads(q), to_heads(k), to_heads(v)
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        total = k.shape[2]
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(head_dim))
        # Query i sits at position total - length + i and sees keys j <= it.
        query_pos = torch.arange(length).unsqueeze(1) + (total - length)
        key_pos = torch.arange(total).unsqueeze(0)
        scores = scores.masked_fill(key_pos > query_pos, float("-inf"))
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(1, 2).reshape(batch, length, d)
        x = x + (attn @ self.attn_c_proj_weight + self.attn_c_proj_bias)
        h = F.layer_norm(x, (d,), self.ln_2_weight, self.ln_2_bias, EPSILON)
        h = F.gelu(h @ self.c_fc_weight + self.c_fc_bias, approximate="tanh")
        x = x + (h @ self.mlp_c_proj_weight + self.mlp_c_proj_bias)
        return x, k, v


class Gpt2(torch.nn.Module):
    def __init__(self, layers, width=WIDTH, heads=HEADS, context=CONTEXT, ffn=None):
        super().__init__()
        self.width = width
        self.wte = torch.nn.Parameter(torch.empty(VOCAB, width))
        self.wpe = torch.nn.Parameter(torch.empty(context, width))
        self.blocks = torch.nn.ModuleList(Block(width, heads, ffn) for _ in range(layers))
        self.ln_f_weight = torch.nn.Parameter(torch.empty(width))
        self.ln_f_bias = torch.nn.Parameter(torch.empty(width))
        self.head_bias = torch.nn.Parameter(torch.zeros(VOCAB))

    def hf_tensors(self):
        tensors = [("wte.weight", self.wte), ("wpe.weight", self.wpe)]
        for i, block in enumerate(self.blocks):
            tensors += block.hf_tensors(f"h.{i}.")
        return tensors + [("ln_f.weight", self.ln_f_weight), ("ln_f.bias", self.ln_f_bias)]

    def initialize(self, seed):
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for key, tensor in self.hf_tensors():
                noise = torch.randn(tensor.shape, generator=generator) * INIT_STD
                is_scale = key.endswith("ln_1.weight") or key.endswith("ln_2.weight") \
                    or key == "ln_f.weight"
                tensor.copy_(1.0 + noise if is_scale else noise)

    def run(self, input_ids, position_ids, pasts):
        x = F.embedding(input_ids, self.wte) + F.embedding(position_ids, self.wpe)
        presents = []
        for i, block in enumerate(self.blocks):
            past_key, past_value = pasts[2 * i:2 * i + 2] if pasts else (None, None)
            x, k, v = block(x, past_key, past_value)
            presents += [k, v]
        x = F.layer_norm(x, (self.width,), self.ln_f_weight, self.ln_f_bias, EPSILON)
        # The head is tied to the token embedding. A 2-D linear with a (zero)
        # bias exports as Gemm(transB=1) reading wte in place; `x @ wte.t()`
        # would export a transposed copy of the 154 MB table.
        batch, length = x.shape[0], x.shape[1]
        logits = F.linear(x.reshape(-1, self.width), self.wte, self.head_bias)
        return (logits.reshape(batch, length, VOCAB),) + tuple(presents)


class Prefill(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids):
        return self.model.run(input_ids, position_ids, None)


class Decode(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, *pasts):
        return self.model.run(input_ids, position_ids, list(pasts))


def f32_bytes(tensor):
    """A float32 tensor's bytes, little-endian. Through ctypes rather than
    numpy: the larger shapes must not need numpy nor hold a second copy of
    the whole model."""
    assert sys.byteorder == "little"
    data = tensor.detach().to(torch.float32).contiguous()
    return ctypes.string_at(data.data_ptr(), data.numel() * 4)


def write_safetensors(path, tensors):
    """A safetensors file: u64 LE header length, JSON header space-padded
    to a multiple of 8, then the F32 tensors back to back (written one at a
    time)."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key, tensor in tensors:
        size = tensor.numel() * 4
        header[key] = {"dtype": "F32", "shape": list(tensor.shape),
                       "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, tensor in tensors:
            f.write(f32_bytes(tensor))


def hf_config(layers, width=WIDTH, heads=HEADS, context=CONTEXT, ffn=None):
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "bos_token_id": VOCAB - 1,
        "eos_token_id": VOCAB - 1,
        "initializer_range": INIT_STD,
        "layer_norm_epsilon": EPSILON,
        "model_type": "gpt2",
        "n_embd": width,
        "n_head": heads,
        "n_inner": ffn if ffn and ffn != 4 * width else None,
        "n_layer": layers,
        "n_positions": context,
        "scale_attn_weights": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": VOCAB,
    }


def export(module, args, path, layers, with_past):
    names_in = ["input_ids", "position_ids"]
    names_out = ["logits"]
    axes = {"input_ids": {1: "sequence"}, "position_ids": {1: "sequence"},
            "logits": {1: "sequence"}}
    for i in range(layers):
        for kind in ("key", "value"):
            if with_past:
                name = f"past_key_values.{i}.{kind}"
                names_in.append(name)
                axes[name] = {2: "past"}
            name = f"present.{i}.{kind}"
            names_out.append(name)
            axes[name] = {2: "total"}
    torch.onnx.export(module, args, path, input_names=names_in,
                      output_names=names_out, dynamic_axes=axes,
                      opset_version=17, do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=WIDTH, help="d_model")
    parser.add_argument("--heads", type=int, default=HEADS)
    parser.add_argument("--context", type=int, default=CONTEXT,
                        help="learned positions (n_positions)")
    parser.add_argument("--ffn", type=int, default=None,
                        help="FFN width (default 4 * width)")
    parser.add_argument("--hf-only", action="store_true",
                        help="write hf/ only: no ONNX exports, no sanity/")
    args = parser.parse_args()
    if args.width % args.heads:
        parser.error(f"--heads {args.heads} does not divide --width {args.width}")
    torch.set_grad_enabled(False)
    shape = dict(width=args.width, heads=args.heads, context=args.context,
                 ffn=args.ffn)

    model = Gpt2(args.layers, **shape).eval()
    model.initialize(args.seed)
    os.makedirs(os.path.join(args.out_dir, "hf"), exist_ok=True)
    with open(os.path.join(args.out_dir, "hf", "config.json"), "w") as f:
        f.write(json.dumps(hf_config(args.layers, **shape), indent=2,
                           sort_keys=True) + "\n")
    write_safetensors(os.path.join(args.out_dir, "hf", "model.safetensors"),
                      model.hf_tensors())
    parameters = sum(t.numel() for _, t in model.hf_tensors())
    if args.hf_only:
        print(f"make_gpt2_124m.py: wrote {args.out_dir}/hf "
              f"({parameters / 1e6:.1f}M parameters)")
        return

    # Only the ONNX exports and the sanity files need onnx (and numpy).
    from onnx import numpy_helper

    generator = torch.Generator().manual_seed(args.seed + 1)
    ids = torch.randint(0, VOCAB, (1, SANITY_LEN), generator=generator)
    positions = torch.arange(SANITY_LEN).unsqueeze(0)
    export(Prefill(model), (ids, positions),
           os.path.join(args.out_dir, "prefill.onnx"), args.layers, False)
    head_dim = args.width // args.heads
    pasts = tuple(torch.randn(1, args.heads, 3, head_dim, generator=generator)
                  for _ in range(2 * args.layers))
    export(Decode(model), (ids[:, :1], positions[:, :1] + 3) + pasts,
           os.path.join(args.out_dir, "decode.onnx"), args.layers, True)

    sanity = os.path.join(args.out_dir, "sanity")
    os.makedirs(sanity, exist_ok=True)
    logits = model.run(ids, positions, None)[0]
    for index, (name, value) in enumerate([("input_ids", ids), ("positions", positions)]):
        tensor = numpy_helper.from_array(value.numpy(), name)
        with open(os.path.join(sanity, f"input_{index}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())
    with open(os.path.join(sanity, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(logits.numpy(), "logits").SerializeToString())
    with open(os.path.join(sanity, "input_ids.json"), "w") as f:
        json.dump(ids.flatten().tolist(), f)
    logits.numpy().astype("<f4").tofile(os.path.join(sanity, "logits.bin"))
    print(f"make_gpt2_124m.py: wrote {args.out_dir} "
          f"({parameters / 1e6:.1f}M parameters)")


if __name__ == "__main__":
    main()
