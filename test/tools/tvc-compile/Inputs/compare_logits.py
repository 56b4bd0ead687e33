"""Compares two --logits-out files of a model executable.

usage: compare_logits.py GOT WANT VOCAB RTOL

Both are float32 little-endian [steps, VOCAB]. They match when they have
the same number of rows and, in every row, the largest |got - want| is at
most RTOL times the largest |want| of that row (the row's scale: logits
near zero would make an element-wise relative error meaningless). Prints
the rows and the worst ratio; exits 1 on a mismatch.
"""

import array
import sys


def load(path, vocab):
    values = array.array("f")
    with open(path, "rb") as file:
        data = file.read()
    if len(data) % (4 * vocab):
        sys.exit(f"{path}: {len(data)} bytes are not whole rows of {vocab} floats")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return [values[i : i + vocab] for i in range(0, len(values), vocab)]


def main():
    got_path, want_path, vocab, rtol = sys.argv[1:5]
    vocab, rtol = int(vocab), float(rtol)
    got, want = load(got_path, vocab), load(want_path, vocab)
    if len(got) != len(want) or not want:
        print(f"mismatch: {len(got)} rows against {len(want)}")
        return 1
    worst = 0.0
    for row, (ours, theirs) in enumerate(zip(got, want)):
        scale = max(abs(value) for value in theirs)
        error = max(abs(a - b) for a, b in zip(ours, theirs))
        ratio = error / scale if scale > 0 else (0.0 if error == 0 else 1.0)
        worst = max(worst, ratio)
        if ratio > rtol:
            print(f"mismatch in row {row}: max error {error} against scale {scale}")
            return 1
    print(f"logits match: {len(got)} rows, worst relative error {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
