#!/usr/bin/env python3
"""Writes the tiny seed images of fuzz/image_seeds/ (committed; rerun to refresh).

JPEGs come from OpenCV (.venv, opencv-python) with a hand-made APP1 Exif
segment for the rotated one; PNGs are assembled chunk by chunk with zlib so the
palette, tRNS, grey+alpha, 16-bit and interlaced paths of libpng are seeded.
"""
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("image_seeds"))
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)
img = np.zeros((16, 24, 3), np.uint8)
img[:8, :12] = (0, 0, 255)
img[:8, 12:] = (0, 255, 0)
img[8:, :12] = (255, 0, 0)
img[8:, 12:] = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)


def jpeg(a, *params):
    ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, 80, *params])
    assert ok
    return buf.tobytes()


def exif_app1(orientation):
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(w, h, bit_depth, color_type, rows, extra=b"", interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


seeds = {
    "baseline.jpg": jpeg(img),
    "progressive.jpg": jpeg(img, cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
    "grey.jpg": jpeg(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)),
    "restart.jpg": jpeg(img, cv2.IMWRITE_JPEG_RST_INTERVAL, 1),
}
base = seeds["baseline.jpg"]
seeds["exif_rotate90.jpg"] = base[:2] + exif_app1(6) + base[2:]
w, h = 5, 4
seeds["rgb.png"] = png(w, h, 8, 2, [bytes(rng.integers(0, 255, w * 3, dtype=np.uint8)) for _ in range(h)])
seeds["grey_alpha.png"] = png(w, h, 8, 4, [bytes(rng.integers(0, 255, w * 2, dtype=np.uint8)) for _ in range(h)])
seeds["rgb16.png"] = png(w, h, 16, 2, [bytes(rng.integers(0, 255, w * 6, dtype=np.uint8)) for _ in range(h)])
seeds["palette_trns.png"] = png(w, h, 4, 3, [bytes([0x01, 0x23, 0x40]) for _ in range(h)],
                                chunk(b"PLTE", bytes(range(15))) + chunk(b"tRNS", b"\x00\x80"))
# Adam7: the IDAT holds each pass's reduced image in turn (1-bit grey, 9x9).
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
adam7 = []
for x0, y0, dx, dy in passes:
    pw, ph = max(0, (9 - x0 + dx - 1) // dx), max(0, (9 - y0 + dy - 1) // dy)
    if pw and ph:
        adam7 += [bytes([0xA5] * ((pw + 7) // 8))] * ph
seeds["grey1_interlaced.png"] = png(9, 9, 1, 0, adam7, interlace=1)
for name, data in seeds.items():
    (out / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes")
