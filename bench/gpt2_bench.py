"""What the Python GPT-2-124M benchmarks share (offload_decode.py,
structured_ffn.py): the common options, the tools, the model (written by
gpt2_model.sh) and the prompt."""

import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def add_common_options(parser):
    """--build, --scratch, --threads, --rounds."""
    parser.add_argument("--build", default=os.environ.get(
        "TVC_BUILD", os.path.join(ROOT, "build")))
    parser.add_argument("--scratch", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "tvc-bench-gpt2"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)


def find_tools(build, names):
    """{name: path} of the built tools; None (after saying which is
    missing) when one is not built."""
    tools = {name: os.path.join(build, "bin", name) for name in names}
    for path in tools.values():
        if not os.access(path, os.X_OK):
            print(f"missing {path} (build it, or pass --build DIR)")
            return None
    return tools


def gpt2_model(scratch, tvc_import):
    """Writes the 12-layer model into `scratch` once (gpt2_model.sh) and
    returns the path of its model.mlir."""
    subprocess.run(["bash", "-c", f'source "{HERE}/gpt2_model.sh" && '
                    f'gpt2_model "{scratch}" 12 "{tvc_import}"'], check=True)
    return os.path.join(scratch, "model.mlir")


def prompt_ids(count):
    """The same `count` token ids in every benchmark, as --prompt-ids."""
    return ",".join(str(1 + (7 * i) % 50000) for i in range(count))


def compile_if_stale(command, exe, model, tvc_compile):
    """Runs the tvc-compile `command` that writes `exe` unless `exe` is
    newer than `model` and `tvc_compile` and was built by the same command
    (kept in exe.command, so a changed option recompiles). Returns the
    finished process, or None when `exe` was up to date."""
    stamp = exe + ".command"
    previous = open(stamp).read() if os.path.exists(stamp) else None
    if (os.path.exists(exe) and previous == " ".join(command) and
            os.path.getmtime(exe) >= os.path.getmtime(model) and
            os.path.getmtime(exe) >= os.path.getmtime(tvc_compile)):
        return None
    done = subprocess.run(command, check=True, text=True,
                          capture_output=True)
    with open(stamp, "w") as stamp_file:
        stamp_file.write(" ".join(command))
    return done
