# lit configuration for tvc: FileCheck tests of tvc-opt and the other tools.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TVC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unittests", "fuzz", "Inputs", "models"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tvc_obj_root, "test")

llvm_config.use_default_substitutions()
# `not`, `count` and FileCheck from LLVM's tools directory anywhere in a RUN
# line (the default substitution only rewrites `not` after a pipe).
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.tvc_tools_dir, append_path=True)
config.substitutions.append(("%tvc_src_root", config.tvc_src_root))
# The C compiler tvc was built with (C callers of runtime/api headers).
config.substitutions.append(("%cc", config.tvc_c_compiler))
# The runtime libraries of mlir-runner (libmlir_runner_utils.so, ...).
config.substitutions.append(("%mlir_lib_dir", config.llvm_lib_dir))

if config.tvc_have_cuda:
    config.available_features.add("cuda")
    # A GPU this process can use: the CUDA executables' end-to-end tests
    # run (scripts/gpu-check.sh); without one, their no-device path does.
    import shutil
    import subprocess
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            listed = subprocess.run([smi, "-L"], capture_output=True,
                                    text=True, timeout=30)
            if listed.returncode == 0 and "GPU" in listed.stdout:
                config.available_features.add("cuda-device")
        except (OSError, subprocess.TimeoutExpired):
            pass
if config.tvc_have_onnx:
    config.available_features.add("onnx")

tool_dirs = [config.tvc_tools_dir, config.llvm_tools_dir]
tools = ["tvc-opt", "tvc-import", "tvc-run", "tvc-compile", "tvc-prune-search",
         "tvc-sparsify-search", "tvc-calibrate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
