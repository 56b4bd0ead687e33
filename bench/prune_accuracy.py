#!/usr/bin/python3
"""Accuracy and decode speed of pruned models, in one run.

    bench/prune_accuracy.py [--build DIR] [--scratch DIR] [--models LIST]
        [--threads N] [--repeat N] [--rounds N] [--max-drop F]

For the bundled trained models (bytegpt: perplexity; recall: task accuracy)
it writes each pruned variant with the tools a user has — `tvc-opt
-tvc-prune` (2:4 magnitude and activation-aware, 25 % of the heads, 25 % of
the FFN channels) and `tvc-prune-search` (the one or two layers whose
removal costs least, and the accuracy-driven search at --max-drop) — then
measures every variant's metric on the test data with `tvc-run --eval` and
its decode speed with `tvc-run --bench` (variants interleaved, --rounds
times, medians), and prints one Markdown table per model.

Data. bytegpt: test = the last 4096 bytes of MPL-2.0 (its held-out text,
test/tools/tvc-run/Inputs/bytegpt-heldout.txt); the searches validate on
the 7770 held-out bytes before them; calibration (activation-aware scores)
reads the first 8 KB of Apache-2.0 (training text). recall: test =
inputs.npy/answers.npy; searches and calibration use 256 fresh rows drawn
by the task's own sampler (seed 3001).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LICENSES = "/usr/share/common-licenses"


def log(message):
    print(f"prune_accuracy.py: {message}", file=sys.stderr, flush=True)


def run(*args, capture=False):
    result = subprocess.run([str(a) for a in args], check=False, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"prune_accuracy.py: {' '.join(map(str, args))} failed:\n"
                 f"{result.stderr}")
    return result.stdout


class Model:
    """One bundled model and how it is measured."""

    def __init__(self, name, tools, scratch):
        self.name, self.tools = name, tools
        self.dir = os.path.join(scratch, name)
        os.makedirs(self.dir, exist_ok=True)
        if name == "bytegpt":
            self.source = os.path.join(ROOT, "test/models/bytegpt")
            self.perplexity = True
            self.prefill = self.past = 128
            mpl = open(os.path.join(LICENSES, "MPL-2.0"), "rb").read()
            self.test = os.path.join(ROOT,
                                     "test/tools/tvc-run/Inputs/bytegpt-heldout.txt")
            self.valid = self.write("valid.txt", mpl[-11866:-4096])
            apache = open(os.path.join(LICENSES, "Apache-2.0"), "rb").read()
            self.calib = self.write("calib.txt", apache[:8192])
        elif name == "recall":
            self.source = os.path.join(ROOT, "test/models/tasks/recall")
            self.perplexity = False
            self.prefill = self.past = 8
            self.test = (os.path.join(self.source, "inputs.npy"),
                         os.path.join(self.source, "answers.npy"))
            self.valid = self.calib = self.fresh_rows(3001)
        else:
            sys.exit(f"prune_accuracy.py: unknown model {name}")
        self.mlir = os.path.join(self.dir, "model.mlir")
        run(tools["tvc-import"], self.source, "-o", self.mlir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def fresh_rows(self, seed):
        """Validation rows from the task's sampler (train_tasks.py)."""
        import numpy as np
        sys.path.insert(0, os.path.join(ROOT, "test/models/tasks"))
        from train_tasks import TASKS
        task = TASKS[self.name]
        x = task.sample(np.random.default_rng(seed), 256)
        test_x = np.load(self.test[0])
        test_y = np.load(self.test[1])
        answer = test_y.shape[1]
        assert x.shape[1] == test_x.shape[1], "the task's format changed"
        xp = os.path.join(self.dir, "valid_x.npy")
        yp = os.path.join(self.dir, "valid_y.npy")
        np.save(xp, x)
        np.save(yp, x[:, -answer:])
        return xp, yp

    def data_args(self, data):
        if self.perplexity:
            return ["--eval-tokens", data]
        return ["--eval-inputs", data[0], "--eval-answers", data[1]]

    def metric(self, mlir):
        """The variant's metric on the test data."""
        # Every variant names its weight files absolutely or next to itself.
        out = json.loads(run(self.tools["tvc-run"], mlir, "--eval", "--json",
                             *self.data_args(self.test), capture=True))
        if self.perplexity:
            return {"perplexity": out["perplexity"]["perplexity"]}
        return {"exact_match": out["accuracy"]["exact_match"],
                "token_accuracy": out["accuracy"]["token_accuracy"]}

    def bench(self, mlir, threads, repeat):
        out = json.loads(run(self.tools["tvc-run"], mlir, "--bench", "--json",
                             "--prefill-tokens", self.prefill, "--past",
                             self.past, "--repeat", repeat, "--num-threads",
                             threads, capture=True))
        return out["decode"][0]["runs_ms"], out["weights_bytes"]


def variants(model, tools, max_drop, layers):
    """(name, path of the pruned .mlir) of every variant, written here."""
    norms = os.path.join(model.dir, "norms.safetensors")
    run(tools["tvc-run"], model.mlir, "--weights-dir", model.source, "--eval",
        *model.data_args(model.calib), "--calibrate", norms, capture=True)
    activation = f"score=activation calibration={norms}"
    prunes = [
        ("2:4, magnitude", "strategy=nm"),
        ("2:4, activation-aware", f"strategy=nm {activation}"),
        ("2:4, activation-aware, format=auto",
         f"strategy=nm format=auto {activation}"),
        ("heads -25 %, magnitude", "strategy=heads amount=0.25"),
        ("heads -25 %, activation-aware",
         f"strategy=heads amount=0.25 {activation}"),
        ("FFN channels -25 %, activation-aware",
         f"strategy=channels amount=0.25 {activation}"),
    ]
    result = [("dense", model.mlir)]
    for index, (name, options) in enumerate(prunes):
        out = os.path.join(model.dir, f"variant{index}.mlir")
        weights = os.path.join(model.dir, f"variant{index}.safetensors")
        log(f"{model.name}: {name}")
        run(tools["tvc-opt"], model.mlir,
            f"-tvc-prune={options} base-dir={model.source} "
            f"weights-file={weights}", "-o", out)
        result.append((name, out))
    metric = [] if model.perplexity else ["--metric", "exact-match"]
    searches = [(f"layers -{k} (least loss)",
                 ["--candidates", "layers", "--max-drop", "1000",
                  "--max-steps", str(k)]) for k in (1, 2) if k < layers]
    searches.append((f"accuracy-driven, max drop {max_drop}",
                     ["--max-drop", max_drop]))
    for index, (name, options) in enumerate(searches):
        out = os.path.join(model.dir, f"search{index}.mlir")
        log(f"{model.name}: {name} (tvc-prune-search)")
        report = json.loads(run(
            tools["tvc-prune-search"], model.mlir, "--weights-dir",
            model.source, "-o", out, "--weights-file",
            f"search{index}.safetensors", "--json", *metric, *options,
            *model.data_args(model.valid), capture=True))
        removed = "; ".join(step["candidate"] for step in report["accepted"])
        result.append((f"{name}: {removed or 'nothing'}", out))
    return result


def table(model, rows, threads):
    base = rows[0]
    print(f"\n{model.name} ({threads} threads, decode at past {model.past}, "
          f"medians of {len(base['runs'])} runs)\n")
    if model.perplexity:
        print("| model | weights (KB) | perplexity | change | decode "
              "tokens/s | decode speed-up |")
        print("|---|---:|---:|---:|---:|---:|")
    else:
        print("| model | weights (KB) | exact match | token accuracy | "
              "decode tokens/s | decode speed-up |")
        print("|---|---:|---:|---:|---:|---:|")
    base_ms = statistics.median(base["runs"])
    for row in rows:
        ms = statistics.median(row["runs"])
        speed = f"{1000 / ms:.0f} | {base_ms / ms:.2f}"
        if model.perplexity:
            p = row["metric"]["perplexity"]
            change = (p / base["metric"]["perplexity"] - 1) * 100
            print(f"| {row['name']} | {row['bytes'] / 1e3:.0f} | {p:.3f} | "
                  f"{change:+.1f} % | {speed} |")
        else:
            m = row["metric"]
            print(f"| {row['name']} | {row['bytes'] / 1e3:.0f} | "
                  f"{m['exact_match']:.3f} | {m['token_accuracy']:.3f} | "
                  f"{speed} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get(
        "TVC_BUILD", os.path.join(ROOT, "build")))
    parser.add_argument("--scratch", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "tvc-bench-prune-accuracy"))
    parser.add_argument("--models", default="bytegpt,recall")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-drop", default="0.5%")
    args = parser.parse_args()
    tools = {name: os.path.join(args.build, "bin", name) for name in
             ("tvc-import", "tvc-opt", "tvc-run", "tvc-prune-search")}
    for path in tools.values():
        if not os.access(path, os.X_OK):
            sys.exit(f"prune_accuracy.py: missing {path} (build it, or "
                     f"--build DIR)")
    for name in args.models.split(","):
        model = Model(name, tools, args.scratch)
        config = json.load(open(os.path.join(model.source, "config.json")))
        drop = args.max_drop
        if not model.perplexity and drop.endswith("%"):
            drop = str(float(drop[:-1]) / 100)  # accuracy: absolute points
        rows = [{"name": n, "path": p, "runs": []}
                for n, p in variants(model, tools, drop, config["n_layer"])]
        for row in rows:
            log(f"{name}: evaluating {row['name']}")
            row["metric"] = model.metric(row["path"])
        for round_ in range(args.rounds):
            for row in rows:
                log(f"{name}: round {round_ + 1}/{args.rounds}: {row['name']}")
                runs, row["bytes"] = model.bench(row["path"], args.threads,
                                                 args.repeat)
                row["runs"] += runs
        table(model, rows, args.threads)


if __name__ == "__main__":
    main()
