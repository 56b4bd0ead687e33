#!/usr/bin/env bash
# Builds BlasBench.cpp once and times every BLAS variant Debian 12 ships
# (OpenBLAS pthread/openmp/serial, BLIS pthread/openmp/serial, oneDNN) on the
# same shapes, interleaved process by process over several rounds, then
# prints a Markdown table of the medians (ms and GFLOP/s). Not part of the
# build or of ctest.
#
#   bench/blas/run.sh [ROUNDS] [THREADS]     defaults: 3 rounds, 2 threads
#
# Environment: BUDGET_MS (timed milliseconds per shape and process, 150),
# BLAS_BENCH_DIR (where the binary and raw results go; a temporary folder).
#
# Needs: libopenblas0-{pthread,openmp,serial} libblis4-{pthread,openmp,serial}
# libdnnl2, a C++ compiler, python3.
set -euo pipefail

ROUNDS="${1:-3}"
THREADS="${2:-2}"
BUDGET_MS="${BUDGET_MS:-150}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${BLAS_BENCH_DIR:-$(mktemp -d)}"
LIB=/usr/lib/x86_64-linux-gnu
CXX="${CXX:-$(command -v clang++-22 || command -v c++)}"

"$CXX" -O2 -std=c++17 -pthread "$HERE/BlasBench.cpp" -ldl -o "$OUT/blas-bench"

# name | library | api | mode
VARIANTS=(
  "openblas-pthread|$LIB/openblas-pthread/libopenblas.so.0|cblas|lib"
  "openblas-openmp|$LIB/openblas-openmp/libopenblas.so.0|cblas|lib"
  "openblas-serial+split|$LIB/openblas-serial/libopenblas.so.0|cblas|split"
  "blis-pthread|$LIB/blis-pthread/libblis.so.4|cblas|lib"
  "blis-openmp|$LIB/blis-openmp/libblis.so.4|cblas|lib"
  "blis-serial+split|$LIB/blis-serial/libblis.so.4|cblas|split"
  "onednn|$LIB/libdnnl.so.2|dnnl|lib"
  "onednn-serial+split|$LIB/libdnnl.so.2|dnnl|split"
)

: >"$OUT/results.txt"
for ((round = 1; round <= ROUNDS; round++)); do
  for variant in "${VARIANTS[@]}"; do
    IFS='|' read -r name lib api mode <<<"$variant"
    [ -e "$lib" ] || { echo "skip $name: $lib missing" >&2; continue; }
    echo "round $round: $name (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    threads_env=$THREADS
    [ "$mode" = split ] && threads_env=1
    OPENBLAS_NUM_THREADS=$threads_env BLIS_NUM_THREADS=$threads_env \
      OMP_NUM_THREADS=$threads_env \
      "$OUT/blas-bench" --lib "$lib" --api "$api" --mode "$mode" \
      --threads "$THREADS" --budget-ms "$BUDGET_MS" | sed "s/^/$name /" >>"$OUT/results.txt"
  done
done

python3 - "$OUT/results.txt" <<'PY'
import collections, statistics, sys
times = collections.defaultdict(list)
names = []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 6:
        if len(parts) > 1 and parts[1] == "#":
            print("<!--", " ".join(parts), "-->")
        continue
    name, op, m, n, k, ms = parts
    if name not in names:
        names.append(name)
    times[(op, int(m), int(n), int(k), name)].append(float(ms))
shapes = sorted({key[:4] for key in times}, key=lambda s: (s[1], s[0], s[2], s[3]))
print("| op | m | n | k | " + " | ".join(names) + " |")
print("|---|---:|---:|---:|" + "---:|" * len(names))
for op, m, n, k in shapes:
    cells = []
    best = min(statistics.median(v) for key, v in times.items() if key[:4] == (op, m, n, k))
    for name in names:
        v = times.get((op, m, n, k, name))
        if not v:
            cells.append("")
            continue
        ms = statistics.median(v)
        gflops = 2.0 * m * n * k / (ms * 1e6)
        cell = f"{ms:.3f} ms / {gflops:.1f}"
        cells.append(f"**{cell}**" if ms == best else cell)
    print(f"| {op} | {m} | {n} | {k} | " + " | ".join(cells) + " |")
PY
