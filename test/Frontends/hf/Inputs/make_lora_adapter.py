#!/usr/bin/env python3
"""Writes a PEFT-layout LoRA adapter for a checkpoint of make_hf_checkpoint.py.

Used by the tvc-import --lora lit tests (test/Frontends/hf/lora*.mlir,
error-lora-*.mlir) and by test/models/torch_reference.py for the golden of
the LLaMA model with the adapter. OUT_DIR gets what PEFT's
`save_pretrained` writes: `adapter_config.json` and
`adapter_model.safetensors` with keys
`base_model.model.<module>.lora_A.weight` ([r, in]) and
`...lora_B.weight` ([out, r]). Both factors are random (B is not the
zeros PEFT initialises it with, so the adapter changes the model).

The default adapter (the golden's): r 4, lora_alpha 8, use_rslora, targets
q_proj, v_proj, o_proj, up_proj, down_proj, rank_pattern
{"mlp.down_proj": 16}, alpha_pattern {"layers.1.self_attn.v_proj": 3}.
For a gpt2 base (config.json's model_type) the default is what PEFT
writes for GPT2LMHeadModel: module names "transformer.h.N.<...>" whether or
not the checkpoint's keys carry "transformer." (--bare-gpt2: "h.N.<...>",
as for a wrapped GPT2Model), fan_in_fan_out true, r 4, lora_alpha 8, no
rsLoRA, targets c_attn, c_proj (both the attention's and the MLP's), c_fc,
rank_pattern {"mlp.c_proj": 8}, alpha_pattern {"h.1.attn.c_attn": 3}.
Conv1D weights are [in, out]; A is still [r, in] and B [out, r].
Which modules get tensors follows PEFT's rules for the config as finally
written (after --set/--unset), read with Python's `re`:
a target_modules string must match the whole module name, "all-linear"
takes every linear of the layers, a list entry matches the name or its
last dot-separated parts (then layers_to_transform filters by layer index),
exclude_modules removes modules the same way. rank_pattern keys match
`(.*\\.)?(KEY)$` from the start.

    make_lora_adapter.py BASE_DIR OUT_DIR [--set FIELD=VALUE]...
        [--unset FIELD]... [--config-set FIELD=VALUE]... [--drop KEY]...
        [--corrupt-shape KEY]... [--extra KEY]... [--dtype f32|f16|bf16]
        [--header-length N] [--seed S] [--bare-gpt2]

Options for negative tests:
  --set FIELD=VALUE    override an adapter_config.json field (VALUE parsed
                       as JSON, else taken as a string).
  --unset FIELD        remove a field.
  --config-set FIELD=VALUE  like --set, but applied after the tensors are
                       chosen, so the file and the config can disagree
                       (and the value need not make sense to PEFT).
  --drop KEY           leave tensor KEY out of the file.
  --corrupt-shape KEY  store KEY with its first dimension one larger.
  --extra KEY          add a [4, 64] tensor KEY.
  --header-length N    write N as the safetensors header length.
Needs only the standard library and numpy; deterministic.
"""

import argparse
import json
import os
import re
import struct
import sys

import numpy as np

ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
KEY_PREFIX = "base_model.model."
FACTOR_STD = 0.05


def default_config():
    return {
        "alpha_pattern": {"layers.1.self_attn.v_proj": 3},
        "auto_mapping": None,
        "base_model_name_or_path": "llama-tiny",
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": 8,
        "lora_dropout": 0.05,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": 4,
        "rank_pattern": {"mlp.down_proj": 16},
        "revision": None,
        "target_modules": ["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": True,
    }


def gpt2_config():
    config = default_config()
    config.update({
        "alpha_pattern": {"h.1.attn.c_attn": 3},
        "base_model_name_or_path": "gpt2-tiny",
        "fan_in_fan_out": True,
        "rank_pattern": {"mlp.c_proj": 8},
        "target_modules": ["c_attn", "c_proj", "c_fc"],
        "use_rslora": False,
    })
    return config


def model_type(base_dir):
    with open(os.path.join(base_dir, "config.json")) as f:
        return json.load(f).get("model_type")


def read_header(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))


def base_linears(base_dir, gpt2_names=None):
    """{module: (out, in)} of the 2-D weights inside the decoder layers.
    gpt2_names: "transformer" or "bare", how PEFT names a GPT-2 module
    (the checkpoint's Conv1D weights are [in, out]); None for LLaMA."""
    header = read_header(os.path.join(base_dir, "model.safetensors"))
    modules = {}
    for key, info in header.items():
        if key == "__metadata__" or not key.endswith(".weight"):
            continue
        shape = info["shape"]
        module = key[: -len(".weight")]
        if gpt2_names is not None:
            bare = module[len("transformer."):] if module.startswith("transformer.") else module
            if len(shape) == 2 and bare.startswith("h."):
                name = bare if gpt2_names == "bare" else "transformer." + bare
                modules[name] = (shape[1], shape[0])
        elif len(shape) == 2 and (".layers." in key or ".h." in key):
            modules[module] = tuple(shape)
    return modules


def matches_list(names, module):
    return module in names or any(module.endswith("." + n) for n in names)


def is_targeted(config, module):
    """PEFT's check_target_module_exists, for a config dict."""
    targets = config.get("target_modules")
    if targets == "all-linear":
        found = True
    elif isinstance(targets, str):
        found = re.fullmatch(targets, module) is not None
    elif module in targets:
        found = True
    else:
        found = matches_list(targets, module)
        layers = config.get("layers_to_transform")
        if found and layers is not None and layers != []:
            patterns = config.get("layers_pattern") or []
            if isinstance(patterns, str):
                patterns = [patterns]
            index = None
            for m in ([re.match(r".*\.[^.]*\.(\d+)\.", module)] if not patterns
                      else [re.match(rf".*\.{p}\.(\d+)\.", module) for p in patterns]):
                if m:
                    index = int(m.group(1))
                    break
            if isinstance(layers, int):
                layers = [layers]
            found = index is not None and index in layers
    exclude = config.get("exclude_modules")
    if found and exclude:
        if isinstance(exclude, str):
            found = re.fullmatch(exclude, module) is None
        else:
            found = not matches_list(exclude, module)
    return found


def pattern_value(patterns, module, default):
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def encode(values, dtype):
    values = np.ascontiguousarray(values, dtype="<f4")
    if dtype == "f32":
        return values.tobytes()
    if dtype == "f16":
        return values.astype("<f2").tobytes()
    bits = values.view("<u4") >> np.uint32(16)
    return bits.astype("<u2").tobytes()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--unset", action="append", default=[], metavar="FIELD")
    parser.add_argument("--config-set", action="append", default=[],
                        metavar="FIELD=VALUE")
    parser.add_argument("--drop", action="append", default=[], metavar="KEY")
    parser.add_argument("--corrupt-shape", action="append", default=[], metavar="KEY")
    parser.add_argument("--extra", action="append", default=[], metavar="KEY")
    parser.add_argument("--dtype", choices=list(ST_DTYPE), default="f32")
    parser.add_argument("--header-length", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bare-gpt2", action="store_true",
                        help="name GPT-2 modules h.N.* (a wrapped GPT2Model)")
    args = parser.parse_args(argv)

    def apply(config, items):
        for item in items:
            field, sep, text = item.partition("=")
            if not sep:
                sys.exit(f"make_lora_adapter.py: --set needs FIELD=VALUE, got {item!r}")
            try:
                config[field] = json.loads(text)
            except ValueError:
                config[field] = text

    gpt2 = model_type(args.base_dir) == "gpt2"
    config = gpt2_config() if gpt2 else default_config()
    apply(config, args.set)
    for field in args.unset:
        config.pop(field, None)

    rng = np.random.default_rng(args.seed)
    tensors = []  # (key, shape, values)
    gpt2_names = None if not gpt2 else "bare" if args.bare_gpt2 else "transformer"
    for module, (out, inp) in sorted(base_linears(args.base_dir, gpt2_names).items()):
        if not is_targeted(config, module):
            continue
        r = pattern_value(config.get("rank_pattern"), module, config.get("r", 4))
        for suffix, shape in ((".lora_A.weight", [r, inp]),
                              (".lora_B.weight", [out, r])):
            key = KEY_PREFIX + module + suffix
            values = rng.standard_normal(shape) * FACTOR_STD
            if key in args.corrupt_shape:
                shape = [shape[0] + 1] + shape[1:]
                values = rng.standard_normal(shape) * FACTOR_STD
            tensors.append((key, shape, values))
    for key in args.extra:
        tensors.append((key, [4, 64], rng.standard_normal([4, 64]) * FACTOR_STD))
    keys = {t[0] for t in tensors}
    for key in args.drop + args.corrupt_shape:
        if key not in keys:
            sys.exit(f"make_lora_adapter.py: the adapter has no tensor {key!r}")
    tensors = [t for t in tensors if t[0] not in set(args.drop)]

    # The safetensors layout of make_hf_checkpoint.py: sorted header, data
    # in key order.
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for key, shape, values in sorted(tensors, key=lambda t: t[0]):
        data = encode(values, args.dtype)
        header[key] = {"dtype": ST_DTYPE[args.dtype], "shape": shape,
                       "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    length = len(text) if args.header_length is None else args.header_length

    apply(config, args.config_set)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(args.out_dir, "adapter_model.safetensors"), "wb") as f:
        f.write(b"".join([struct.pack("<Q", length), text] + blobs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
