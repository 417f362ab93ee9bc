#!/usr/bin/env python3
"""Checks that numpy reads the files AegisRT wrote (ours_<dtype>.npy,
ours_stored.npz, ours_deflated.npz in DIR) with the values of
gen_io_files.values(). Exit 0 when all match; prints the first problem."""
import os
import sys

import ml_dtypes
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_io_files import KINDS, values  # noqa: E402


def check(name, got, kind):
    want = values(kind)
    if kind == "bfloat16":
        assert got.dtype == np.dtype("V2"), (name, got.dtype)
        got = got.view(ml_dtypes.bfloat16)
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    assert got.shape == want.shape, (name, got.shape)
    assert got.flags["C_CONTIGUOUS"], name
    if kind == "string":
        assert got.tolist() == want.tolist(), (name, got, want)
        return
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (name, got, want)


def main():
    d = sys.argv[1]
    for k in KINDS:
        check(f"ours_{k}.npy", np.load(os.path.join(d, f"ours_{k}.npy")), k)
    for z in ["ours_stored.npz", "ours_deflated.npz"]:
        with np.load(os.path.join(d, z)) as f:
            assert sorted(f.files) == sorted(KINDS), (z, f.files)
            for k in KINDS:
                # numpy reads the ml_dtypes names we write as descr (ml_dtypes is imported).
                check(f"{z}:{k}", f[k], k)
    print("numpy read all files")


if __name__ == "__main__":
    main()
