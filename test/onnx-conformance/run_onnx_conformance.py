#!/usr/bin/env python3
"""ONNX's node conformance tests through tvc: import -> lower -> run.

Generates ONNX's own conformance data once (`onnx.backend.test.cmd_tools
generate-data`, with the onnx Python package of the interpreter running this
script), selects every node test whose graph uses only ai.onnx ops tvc lowers
(the list comes from `tvc-import --list-supported-onnx-ops`, i.e. from the
handler tables of convert-onnx-to-tvc and convert-onnx-to-linalg), and runs
each test data set through

    tvc-import -> tvc-opt --convert-onnx-to-linalg=strict=true
               -> tvc-run --inputs D --expected D --rtol 1e-3 --atol 1e-7

(ONNX's backend-test tolerances). A test is

  passed       every data set ran and matched;
  unsupported  a stage refused it with a diagnostic saying "unsupported"
               (an element type, an attribute variant: the importer's
               error, the reason the strict lowering gives for each node
               it left, or tvc-run's), or its own data contradicts its
               model (an input's shape is not the one the graph
               declares, as in onnx 1.12's CastLike bfloat16 tests),
               printed grouped by reason;
  failed       anything else: a crash, a timeout, an error that is not such
               a refusal, or numbers outside the tolerance.

Prints one line per failed test, the unsupported tests grouped by reason,
and last a line `N passed, N failed`. Exits 1 when a test failed, 77 (the
ctest skip code) when this Python cannot import onnx.
"""

import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77
TIMEOUT_S = 120


def generate_data(data_dir):
    """Writes ONNX's conformance data under data_dir (once)."""
    stamp = os.path.join(data_dir, ".complete")
    if os.path.exists(stamp):
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    # onnx 1.12's generators use NumPy aliases NumPy 1.24 removed.
    code = (
        "import sys, numpy as np\n"
        "for name, value in (('float', float), ('int', int), ('bool', bool),"
        " ('object', object)):\n"
        "    if not hasattr(np, name): setattr(np, name, value)\n"
        "from onnx.backend.test.cmd_tools import main\n"
        "sys.argv = ['onnx', 'generate-data', '-o', sys.argv[1]]\n"
        "main()\n")
    subprocess.run([sys.executable, "-c", code, data_dir], check=True,
                   stdout=subprocess.DEVNULL)
    open(stamp, "w").close()


def graph_op_types(model_path):
    """The (domain, op_type) pairs of the model's nodes, subgraphs included."""
    import onnx
    model = onnx.load(model_path)
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add((node.domain if node.domain != "ai.onnx" else "",
                     node.op_type))
            for attr in node.attribute:
                if attr.HasField("g"):
                    walk(attr.g)
                for sub in attr.graphs:
                    walk(sub)

    walk(model.graph)
    return ops


def run_stage(command, log):
    """Runs one stage; returns (status, output) where status is 'ok',
    'error', 'crash' or 'timeout'."""
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        output = (e.output or b"").decode(errors="replace")
        with open(log, "a") as f:
            f.write("$ " + " ".join(command) + "\n" + output + "\nTIMEOUT\n")
        return "timeout", output
    output = proc.stdout.decode(errors="replace")
    with open(log, "a") as f:
        f.write("$ " + " ".join(command) + "\n" + output)
    if proc.returncode == 0:
        return "ok", output
    # A signal (negative code) or a shell-style 128+N is a crash; so is
    # LLVM's stack dump on a fatal error.
    if (proc.returncode < 0 or proc.returncode >= 128 or
            "Stack dump" in output or "PLEASE submit a bug report" in output):
        return "crash", output
    return "error", output


UNSUPPORTED = re.compile(r"unsupported|not supported", re.IGNORECASE)


def normalize(reason):
    """A reason without the names of a particular test, for grouping."""
    reason = re.sub(r"/\S+", "", reason)
    reason = re.sub(r"'[^']*'", "'...'", reason)
    reason = re.sub(r"\bnode_\w+|\btest_\w+", "", reason)
    return " ".join(reason.split())


def first_error(output):
    """The first error line; when it introduces a list ("N problem(s):"),
    the distinct items of the list instead."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if "error:" not in line:
            continue
        message = line.split("error:", 1)[1].strip()
        if message.endswith(":"):
            items = []
            for item in lines[index + 1:]:
                if not item.startswith("  "):
                    break
                if normalize(item) not in items:
                    items.append(normalize(item))
            if items:
                return "; ".join(items)
        return message
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[0].strip() if lines else "no output"


def leftover_reasons(output):
    """The per-node reasons of a strict convert-onnx-to-linalg failure, or
    None when the failure is something else."""
    if "could not be lowered to linalg" not in output:
        return None
    reasons = []
    for line in output.splitlines():
        match = re.match(r"\s+(\w+) (?:\(domain '[^']*'\) )?opset \d+ '[^']*'"
                         r": (.*)$", line)
        if match:
            reasons.append(match.group(1) + ": " + match.group(2))
    return reasons or None


def data_contradicts_model(test_dir, data):
    """Why the inputs in `data` cannot feed the graph of `test_dir` (an
    input's shape other than the static one the graph declares), or None."""
    import onnx
    graph = onnx.load(os.path.join(test_dir, "model.onnx")).graph
    initializers = {tensor.name for tensor in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    for index, value in enumerate(inputs):
        path = os.path.join(data, "input_%d.pb" % index)
        if not os.path.exists(path):
            continue
        tensor = onnx.TensorProto()
        with open(path, "rb") as file:
            tensor.ParseFromString(file.read())
        dims = value.type.tensor_type.shape.dim
        declared = [d.dim_value if d.HasField("dim_value") else None
                    for d in dims]
        if len(declared) != len(tensor.dims) or any(
                want is not None and want != got
                for want, got in zip(declared, tensor.dims)):
            return ("data: input_%d.pb has shape %s, the model declares %s"
                    % (index, list(tensor.dims), declared))
    return None


def run_test(name, test_dir, bin_dir, work_dir):
    """Returns (name, verdict, detail): verdict 'passed', 'unsupported' or
    'failed'."""
    out = os.path.join(work_dir, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log = os.path.join(out, "log")
    imported = os.path.join(out, "model.mlir")
    lowered = os.path.join(out, "lowered.mlir")

    status, output = run_stage(
        [os.path.join(bin_dir, "tvc-import"), "--quiet",
         os.path.join(test_dir, "model.onnx"), "-o", imported], log)
    if status != "ok":
        message = first_error(output)
        if status == "error" and UNSUPPORTED.search(message):
            return name, "unsupported", "import: " + normalize(message)
        return name, "failed", "IMPORT_%s %s" % (status.upper(), message)

    status, output = run_stage(
        [os.path.join(bin_dir, "tvc-opt"), imported,
         "--convert-onnx-to-linalg=strict=true", "-o", lowered], log)
    if status != "ok":
        reasons = leftover_reasons(output) if status == "error" else None
        # Every node left must have been refused as unsupported; any other
        # reason (an unexpected type, a handler that gave none) is a failure.
        if reasons and all(UNSUPPORTED.search(r) for r in reasons):
            return name, "unsupported", "lowering: " + normalize(
                "; ".join(sorted(set(reasons))))
        if reasons:
            return name, "failed", "LOWER_LEFTOVER " + "; ".join(reasons)
        return name, "failed", "LOWER_%s %s" % (status.upper(),
                                                first_error(output))

    data_sets = sorted(d for d in os.listdir(test_dir)
                       if d.startswith("test_data_set_"))
    for data_set in data_sets:
        data = os.path.join(test_dir, data_set)
        status, output = run_stage(
            [os.path.join(bin_dir, "tvc-run"), lowered, "--inputs", data,
             "--expected", data, "--rtol", "1e-3", "--atol", "1e-7"], log)
        if status == "ok":
            continue
        mismatches = [line.strip() for line in output.splitlines()
                      if "MISMATCH" in line]
        if mismatches:
            return name, "failed", "WRONG %s: %s" % (data_set, mismatches[0])
        message = first_error(output)
        if status == "error" and UNSUPPORTED.search(message):
            return name, "unsupported", "run: " + normalize(message)
        # The test's own data may not fit its graph; no backend can run it.
        contradiction = data_contradicts_model(test_dir, data)
        if status == "error" and contradiction:
            return name, "unsupported", contradiction
        return name, "failed", "RUN_%s %s: %s" % (status.upper(), data_set,
                                                  message)
    return name, "passed", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True,
                        help="directory of tvc-import, tvc-opt and tvc-run")
    parser.add_argument("--work", required=True,
                        help="directory for the data and each test's files")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", default="",
                        help="only tests whose name matches this regex")
    parser.add_argument("--verbose", action="store_true",
                        help="print every test's verdict")
    args = parser.parse_args()

    try:
        import onnx  # noqa: F401
    except ImportError as e:
        print("SKIP: %s cannot import onnx (%s); install python3-onnx" %
              (sys.executable, e))
        return SKIP

    start = time.time()
    data_dir = os.path.join(args.work, "data")
    generate_data(data_dir)
    node_dir = os.path.join(data_dir, "node")

    listing = subprocess.run(
        [os.path.join(args.bin, "tvc-import"), "--list-supported-onnx-ops"],
        check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    supported = set(listing.split())

    selected, not_selected = [], collections.Counter()
    for name in sorted(os.listdir(node_dir)):
        if args.filter and not re.search(args.filter, name):
            continue
        ops = graph_op_types(os.path.join(node_dir, name, "model.onnx"))
        missing = sorted(op for domain, op in ops
                         if domain or op not in supported)
        if missing:
            not_selected[", ".join(missing)] += 1
        else:
            selected.append(name)

    run_dir = os.path.join(args.work, "run")
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_test, name, os.path.join(node_dir, name),
                               args.bin, run_dir) for name in selected]
        for future in futures:
            results.append(future.result())

    passed = [r for r in results if r[1] == "passed"]
    failed = [r for r in results if r[1] == "failed"]
    unsupported = [r for r in results if r[1] == "unsupported"]
    if args.verbose:
        for name, verdict, detail in results:
            print("%s %s %s" % (name, verdict.upper(), detail))
    for name, _, detail in failed:
        print("FAILED %s: %s" % (name, detail))

    print("\n%d of %d node tests use only supported ops (%d supported op "
          "types); %d others use ops tvc does not lower." %
          (len(selected), len(selected) + sum(not_selected.values()),
           len(supported), sum(not_selected.values())))
    if unsupported:
        print("%d unsupported (variants of supported ops tvc refuses), by "
              "reason:" % len(unsupported))
        groups = collections.defaultdict(list)
        for name, _, detail in unsupported:
            groups[detail].append(name)
        for detail, names in sorted(groups.items(),
                                    key=lambda item: (-len(item[1]), item[0])):
            print("  %3d  %s" % (len(names), detail))
            print("       " + " ".join(names))
    print("time: %.0f s (%d jobs); logs under %s" %
          (time.time() - start, args.jobs, run_dir))
    print("%d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
