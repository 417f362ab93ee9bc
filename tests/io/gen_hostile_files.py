#!/usr/bin/env python3
"""Writes hostile tensor files for tests/io/hostile_io_test.cpp (issue 12):

  claim4g_stored.npz    np.savez of a 2x3 float32 'x', with the entry's
  claim4g_deflated.npz  uncompressed size patched to 4,000,000,000 bytes in
                        both the local header and the central directory
                        (the files stay ~300 bytes)
  header_mismatch.npz   deflated entry 'x.npy': a header for shape (4,) float32
                        followed by 64 MiB of zeros (~64 KiB compressed)
  zeros_64m.npz         np.savez_compressed of 'big' = 64 MiB of float32 zeros

Usage: gen_hostile_files.py OUT_DIR
"""
import io
import os
import struct
import sys
import zipfile

import numpy as np

CLAIM = 4_000_000_000


def patch_claim(path):
    data = bytearray(open(path, "rb").read())
    assert data[:4] == b"PK\x03\x04"
    struct.pack_into("<I", data, 22, CLAIM)  # local header: uncompressed size
    cd = data.find(b"PK\x01\x02")
    assert cd > 0
    struct.pack_into("<I", data, cd + 24, CLAIM)  # central directory: uncompressed size
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.savez(os.path.join(out, "claim4g_stored.npz"), x=x)
    patch_claim(os.path.join(out, "claim4g_stored.npz"))
    np.savez_compressed(os.path.join(out, "claim4g_deflated.npz"), x=x)
    patch_claim(os.path.join(out, "claim4g_deflated.npz"))

    header = io.BytesIO()
    np.lib.format.write_array(header, np.zeros(4, np.float32))
    npy = header.getvalue()[:-16] + bytes(64 << 20)
    with zipfile.ZipFile(os.path.join(out, "header_mismatch.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy)

    np.savez_compressed(os.path.join(out, "zeros_64m.npz"), big=np.zeros((64 << 20) // 4, np.float32))


if __name__ == "__main__":
    main()
