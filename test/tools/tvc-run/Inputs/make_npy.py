#!/usr/bin/env python3
"""Writes a .npy file byte by byte (no numpy needed), for tvc-run's --eval
tests, including files NumPy would not write:

    make_npy.py OUT DESCR SHAPE VALUES [--fortran] [--magic BYTES]

DESCR is the dtype string ('<i8', '<i4', '<f4', ...), SHAPE comma-separated
dims ('' for a scalar), VALUES comma-separated numbers written in DESCR's
format (struct codes of the little-endian types), 'range' for 0, 1, ...
or 'fill:V' for V everywhere.
"""
import struct
import sys

CODES = {"<i8": "q", "<i4": "i", "<f4": "f", "<f8": "d", "|u1": "B",
         "<c8": "ff"}


def main():
    out, descr, shape_text, values_text = sys.argv[1:5]
    fortran = "--fortran" in sys.argv
    magic = b"\x93NUMPY"
    if "--magic" in sys.argv:
        magic = sys.argv[sys.argv.index("--magic") + 1].encode()
    shape = tuple(int(d) for d in shape_text.split(",") if d)
    count = 1
    for d in shape:
        count *= d
    values = (list(range(count)) if values_text == "range" else
              [int(values_text[5:])] * count if values_text.startswith("fill:")
              else
              [float(v) if "f" in CODES[descr] else int(v)
               for v in values_text.split(",") if v])
    code = CODES[descr]
    if code == "ff":
        data = b"".join(struct.pack("<ff", v, 0) for v in values)
    else:
        data = struct.pack("<%d%s" % (len(values), code), *values)
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran, repr(shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(out, "wb") as f:
        f.write(magic + b"\x01\x00" + struct.pack("<H", len(header)) +
                header.encode() + data)


if __name__ == "__main__":
    main()
