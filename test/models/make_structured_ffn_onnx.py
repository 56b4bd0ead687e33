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


class LoraLinear(torch.nn.Module):
    """PEFT's lora.Linear forward: base(x) + lora_B(lora_A(x)) * scaling."""

    def __init__(self, inp, out, rank, alpha):
        super().__init__()
        self.base_layer = torch.nn.Linear(inp, out)
        self.lora_A = torch.nn.Linear(inp, rank, bias=False)
        self.lora_B = torch.nn.Linear(rank, out, bias=False)
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


class StructuredFfn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up_v = torch.nn.Linear(D, UP_RANK, bias=False)
        self.up_u = torch.nn.Linear(UP_RANK, FFN)
        self.down = LoraLinear(FFN, D, LORA_RANK, LORA_ALPHA)

    def forward(self, x):
        h = self.up_u(self.up_v(x))
        return self.down(torch.nn.functional.gelu(h))


def main():
    weights = load_safetensors(os.path.join(OUT, "model.safetensors"))
    model = StructuredFfn().eval()
    with torch.no_grad():
        for param, key in ((model.up_v.weight, "up.v"),
                           (model.up_u.weight, "up.u"),
                           (model.up_u.bias, "up.bias"),
                           (model.down.base_layer.weight, "down.weight"),
                           (model.down.base_layer.bias, "down.bias"),
                           (model.down.lora_A.weight, "down.lora_a"),
                           (model.down.lora_B.weight, "down.lora_b")):
            param.copy_(weights[key])
    data = os.path.join(OUT, "test_data_set_0")
    x = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "input_0.pb")))
    golden = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_0.pb")))
    with torch.no_grad():
        y = model(torch.from_numpy(x.copy())).numpy()
    error = float(np.abs(y - golden).max())
    assert error <= 1e-5 * float(np.abs(golden).max()), error
    torch.onnx.export(model, (torch.from_numpy(x.copy()),),
                      os.path.join(OUT, "model.onnx"), opset_version=17,
                      input_names=["x"], output_names=["y"],
                      do_constant_folding=True)


if __name__ == "__main__":
    main()
