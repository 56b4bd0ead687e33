#!/usr/bin/env python3
"""Writes the structured-FFN test model as torch.onnx.export writes it.

The model of make_structured_ffn.py (run that first: this script reads its
`structured-ffn/model.safetensors`) as plain PyTorch modules:

  up   = nn.Linear(64, 8, bias=False) then nn.Linear(8, 256)   (low rank 8)
  gelu (exact)
  down = nn.Linear(256, 64) + 2.0 * lora_B(lora_A(.))           (PEFT's LoRA,
         lora_A = nn.Linear(256, 4, bias=False), lora_B = nn.Linear(4, 64,
         bias=False), scaling = alpha / r = 8 / 4)

exported with torch 1.13's `torch.onnx.export` (opset 17, constant folding:
each weight becomes a transposed [in, out] initializer read by MatMul) to
`structured-ffn/model.onnx`. Its input and PyTorch golden are
`structured-ffn/test_data_set_0` (the same x and y: the modules compute what
the golden's formula does). The script checks that the modules reproduce
the golden before writing. test/Frontends/onnx/torch-structured-ffn.test
imports the file: `tvc-import` must raise the factors into one
`#tvc.low_rank` and one `#tvc.lora` linear.

`structured-ffn/lora-dropout-train.onnx` is the same model with PEFT's
lora_dropout (p = 0.1) before lora_A, exported in train mode (the Dropout
node stays, training_mode = true); at inference the dropout is the
identity, so its golden is test_data_set_0 too.
test/Frontends/onnx/torch-lora-dropout.test imports it.

It also exports the block-dense model of make_structured_ffn.py (its
`structured-ffn/block-dense.safetensors`) as structured-FFN training code
writes BlockDense: x viewed as [.., 4, 16], each slice multiplied by its
block of a [4, 16, 8] parameter, the slices joined to [.., 32], then
nn.Linear(32, 256); gelu; nn.Linear(256, 64). Two files, one per way of
multiplying the blocks:

  block-dense-einsum.onnx  torch.einsum('...ki,kio->...ko')   (an Einsum node)
  block-dense-bmm.onnx     torch.bmm on [4, tokens, 16] after a transpose
                           (Reshape, Transpose, MatMul, Transpose, Reshape)

Their golden is `structured-ffn/test_data_set_1`; the script checks the
modules reproduce it. test/Frontends/onnx/torch-block-dense.test imports
both: each must raise to one `#tvc.block_dense<blocks = 4>` linear.

Last, the block-shuffle (Monarch) model of make_structured_ffn.py (its
`structured-ffn/block-shuffle.safetensors`: up 64 -> 256 with B1 [4, 16,
16], B2 [16, 16, 4] and a bias, gelu, down 256 -> 64 with B1 [16, 4, 16],
B2 [4, 16, 16], no bias), each linear written as Monarch code writes it: x
viewed as [.., k, p], multiplied by the first blocks, the (k, q) grid
transposed and viewed as [.., l, r], multiplied by the second blocks,
joined to [.., l s] (+ bias). Two files, one per way of multiplying:

  block-shuffle-einsum.onnx  torch.einsum('...kp,kqp->...kq') by the
                             [k, q, p] parameters (Einsum nodes)
  block-shuffle-bmm.onnx     torch.bmm on [k, tokens, p] by the parameters
                             transposed (Reshape, Transpose, MatMul, ...)

Their golden is `structured-ffn/test_data_set_3`; the script checks the
modules reproduce it. test/Frontends/onnx/torch-block-shuffle.test imports
both: each must raise to two `#tvc.block_shuffle` linears.

    /usr/bin/python3 test/models/make_structured_ffn_onnx.py
"""

import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from torch_reference import load_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "structured-ffn")
D, FFN, UP_RANK, LORA_RANK, LORA_ALPHA = 64, 256, 8, 4, 8.0
BLOCKS, BLOCK_RANK = 4, 32


class LoraLinear(torch.nn.Module):
    """PEFT's lora.Linear forward: base(x) + lora_B(lora_A(dropout(x))) *
    scaling, without the dropout when `dropout` is 0."""

    def __init__(self, inp, out, rank, alpha, dropout=0.0):
        super().__init__()
        self.base_layer = torch.nn.Linear(inp, out)
        self.lora_A = torch.nn.Linear(inp, rank, bias=False)
        self.lora_B = torch.nn.Linear(rank, out, bias=False)
        self.scaling = alpha / rank
        self.lora_dropout = torch.nn.Dropout(dropout) if dropout else None

    def forward(self, x):
        branch = self.lora_dropout(x) if self.lora_dropout else x
        return self.base_layer(x) + self.lora_B(self.lora_A(branch)) * self.scaling


class StructuredFfn(torch.nn.Module):
    def __init__(self, lora_dropout=0.0):
        super().__init__()
        self.up_v = torch.nn.Linear(D, UP_RANK, bias=False)
        self.up_u = torch.nn.Linear(UP_RANK, FFN)
        self.down = LoraLinear(FFN, D, LORA_RANK, LORA_ALPHA, lora_dropout)

    def forward(self, x):
        h = self.up_u(self.up_v(x))
        return self.down(torch.nn.functional.gelu(h))


class BlockDense(torch.nn.Module):
    """y = L (blockdiag(B_1..B_k) x) + b, the blocks one [k, in/k, r/k]
    parameter (each block [in, out], as x @ block multiplies), multiplied
    with einsum ("einsum") or bmm ("bmm")."""

    def __init__(self, inp, out, blocks, rank, form):
        super().__init__()
        self.blocks = torch.nn.Parameter(
            torch.empty(blocks, inp // blocks, rank // blocks))
        self.l = torch.nn.Linear(rank, out)
        self.form = form

    def forward(self, x):
        k, block_in, block_out = self.blocks.shape
        lead = x.shape[:-1]
        if self.form == "einsum":
            h = torch.einsum("...ki,kio->...ko", x.view(*lead, k, block_in),
                             self.blocks)
        else:
            h = x.reshape(-1, k, block_in).transpose(0, 1)
            h = torch.bmm(h, self.blocks).transpose(0, 1)
        return self.l(h.reshape(*lead, k * block_out))


class BlockDenseFfn(torch.nn.Module):
    def __init__(self, form):
        super().__init__()
        self.up = BlockDense(D, FFN, BLOCKS, BLOCK_RANK, form)
        self.down = torch.nn.Linear(FFN, D)

    def forward(self, x):
        return self.down(torch.nn.functional.gelu(self.up(x)))


class BlockShuffle(torch.nn.Module):
    """y = blockdiag(B2) P blockdiag(B1) x (+ bias), B1 [k, q, p] and B2
    [l, s, r] parameters (each block [out, in]), P the transpose of the
    first stage's (k, q) grid; the blocks multiplied with einsum ("einsum")
    or bmm ("bmm")."""

    def __init__(self, b1, b2, bias, form):
        super().__init__()
        self.b1 = torch.nn.Parameter(b1.clone())
        self.b2 = torch.nn.Parameter(b2.clone())
        self.bias = None if bias is None else torch.nn.Parameter(bias.clone())
        self.form = form

    def forward(self, x):
        k, q, p = self.b1.shape
        l, s, r = self.b2.shape
        lead = x.shape[:-1]
        if self.form == "einsum":
            z = torch.einsum("...kp,kqp->...kq", x.reshape(*lead, k, p),
                             self.b1)
            z = z.transpose(-1, -2).reshape(*lead, l, r)
            y = torch.einsum("...lr,lsr->...ls", z, self.b2)
        else:
            h = x.reshape(-1, k, p).transpose(0, 1)             # [k, M, p]
            z = torch.bmm(h, self.b1.transpose(-1, -2))         # [k, M, q]
            z = z.transpose(0, 1).transpose(-1, -2)             # [M, q, k]
            z = z.reshape(-1, l, r).transpose(0, 1)             # [l, M, r]
            y = torch.bmm(z, self.b2.transpose(-1, -2))         # [l, M, s]
            y = y.transpose(0, 1)
        y = y.reshape(*lead, l * s)
        return y if self.bias is None else y + self.bias


class BlockShuffleFfn(torch.nn.Module):
    def __init__(self, weights, form):
        super().__init__()
        self.up = BlockShuffle(weights["bs.up_b1"], weights["bs.up_b2"],
                               weights["bs.up_bias"], form)
        self.down = BlockShuffle(weights["bs.down_b1"], weights["bs.down_b2"],
                                 None, form)

    def forward(self, x):
        return self.down(torch.nn.functional.gelu(self.up(x)))


def read_data_set(name):
    """The input and golden output of structured-ffn/`name`."""
    data = os.path.join(OUT, name)
    return [numpy_helper.to_array(onnx.load_tensor(os.path.join(data, f)))
            for f in ("input_0.pb", "output_0.pb")]


def export_block_dense():
    weights = load_safetensors(os.path.join(OUT, "block-dense.safetensors"))
    x, golden = read_data_set("test_data_set_1")
    for form in ("einsum", "bmm"):
        model = BlockDenseFfn(form).eval()
        with torch.no_grad():
            # The tvc layout stacks each block [out, in].
            model.up.blocks.copy_(weights["bd.blocks"].transpose(1, 2))
            for param, key in ((model.up.l.weight, "bd.l"),
                               (model.up.l.bias, "bd.bias"),
                               (model.down.weight, "bd.down"),
                               (model.down.bias, "bd.down_bias")):
                param.copy_(weights[key])
            y = model(torch.from_numpy(x.copy())).numpy()
        error = float(np.abs(y - golden).max())
        assert error <= 1e-5 * float(np.abs(golden).max()), (form, error)
        torch.onnx.export(model, (torch.from_numpy(x.copy()),),
                          os.path.join(OUT, f"block-dense-{form}.onnx"),
                          opset_version=17, input_names=["x"],
                          output_names=["y"], do_constant_folding=True)


def export_block_shuffle(out=OUT):
    weights = load_safetensors(os.path.join(OUT, "block-shuffle.safetensors"))
    x, golden = read_data_set("test_data_set_3")
    for form in ("einsum", "bmm"):
        model = BlockShuffleFfn(weights, form).eval()
        with torch.no_grad():
            y = model(torch.from_numpy(x.copy())).numpy()
        error = float(np.abs(y - golden).max())
        assert error <= 1e-5 * float(np.abs(golden).max()), (form, error)
        torch.onnx.export(model, (torch.from_numpy(x.copy()),),
                          os.path.join(out, f"block-shuffle-{form}.onnx"),
                          opset_version=17, input_names=["x"],
                          output_names=["y"], do_constant_folding=True)


def structured_ffn(weights, x, golden, lora_dropout=0.0):
    """StructuredFfn with the weights of model.safetensors, checked (in
    eval mode) against the golden."""
    model = StructuredFfn(lora_dropout).eval()
    with torch.no_grad():
        for param, key in ((model.up_v.weight, "up.v"),
                           (model.up_u.weight, "up.u"),
                           (model.up_u.bias, "up.bias"),
                           (model.down.base_layer.weight, "down.weight"),
                           (model.down.base_layer.bias, "down.bias"),
                           (model.down.lora_A.weight, "down.lora_a"),
                           (model.down.lora_B.weight, "down.lora_b")):
            param.copy_(weights[key])
        y = model(torch.from_numpy(x.copy())).numpy()
    error = float(np.abs(y - golden).max())
    assert error <= 1e-5 * float(np.abs(golden).max()), error
    return model


def main():
    weights = load_safetensors(os.path.join(OUT, "model.safetensors"))
    x, golden = read_data_set("test_data_set_0")
    model = structured_ffn(weights, x, golden)
    torch.onnx.export(model, (torch.from_numpy(x.copy()),),
                      os.path.join(OUT, "model.onnx"), opset_version=17,
                      input_names=["x"], output_names=["y"],
                      do_constant_folding=True)
    # PEFT's lora_dropout, the model exported in train mode as a training
    # script might leave it: a Dropout node with training_mode = true, the
    # weights [out, in] behind Transposes (no constant folding).
    model = structured_ffn(weights, x, golden, lora_dropout=0.1)
    torch.onnx.export(model, (torch.from_numpy(x.copy()),),
                      os.path.join(OUT, "lora-dropout-train.onnx"),
                      opset_version=17, input_names=["x"], output_names=["y"],
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False)
    export_block_dense()
    export_block_shuffle()


if __name__ == "__main__":
    main()
