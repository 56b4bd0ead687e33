#!/usr/bin/python3
"""Writes Inputs/<model>/{input_0,output_0}.pb for torch-models.test.

The PyTorch-exported models of test/Frontends/onnx/Inputs come with their
input ids and PyTorch's float32 logits as .npy files
(export_torch_models.py); tvc-run reads ONNX TensorProto files, so this
converts them.

Usage: /usr/bin/python3 make_model_data.py
"""

import os

import numpy as np
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "..", "Frontends", "onnx", "Inputs")

for model in ("gpt2_opset17", "gpt2_opset14", "llama_opset17"):
    out = os.path.join(HERE, model)
    os.makedirs(out, exist_ok=True)
    for suffix, name in (("input", "input_0"), ("logits", "output_0")):
        array = np.load(os.path.join(MODELS, f"{model}.{suffix}.npy"))
        with open(os.path.join(out, f"{name}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(array).SerializeToString())
