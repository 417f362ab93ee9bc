#!/usr/bin/env python3
"""Reference ByteTrack outputs for tests/vision/tracking_reference_test.cpp.

Generates deterministic synthetic detection sequences (objects crossing, one
occluded for several frames, low-score detections for the second association,
one-frame flickers, clutter) and runs them through the reference ByteTrack:
the PyPI package `bytetracker` 0.3.2, a packaging of ifzhang/ByteTrack's
yolox/tracker/byte_tracker.py (same STrack/KalmanFilter/matching code, IoU with
cython_bbox's +1 pixel convention re-implemented in Python, lap.lapjv).

Only needed to regenerate the committed JSON (the C++ test reads the JSON):
    .venv/bin/pip install --no-deps bytetracker==0.3.2 && .venv/bin/pip install lap scipy
    (torch is imported by the package; the shared .venv has it)
    .venv/bin/python python/gen_tracking_reference.py tests/data/tracking

The package's BYTETracker.update() converts the given x1y1x2y2 boxes to
centre-x/centre-y/w/h and then hands those to STrack as if they were
top-left/w/h (and converts back the same way on output), which shifts every
box by half its size inside the tracker, unlike the original repository. We
undo that at the edge: each box is given as (x1 - w/2, y1 - h/2, x1 + w/2,
y1 + h/2), whose "centre" is the true top-left corner, and each output row's
"centre" is read back as the true top-left. The tracker itself then sees the
true boxes, exactly as the original ByteTrack does.

All coordinates are multiples of 1/64 and scores are float32 values, so the
C++ test (float detections) sees exactly the same inputs.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from bytetracker import BYTETracker
from bytetracker.basetrack import BaseTrack


def q(v):  # exact in float32 and float64
    return round(float(v) * 64.0) / 64.0


def f32(v):
    return float(np.float32(v))


def scenario_main(rng):
    """60 frames, 640x480: A and B cross, C occluded frames 20..27, D low-score
    frames 35..42, E enters at frame 15, a flicker at frame 10, clutter."""
    frames = []
    for f in range(60):
        dets = []
        j = lambda: rng.uniform(-1.5, 1.5)
        # A: left -> right, B: right -> left, crossing around frame 30.
        ax = 40 + 9.0 * f
        dets.append((ax + j(), 180 + j(), ax + 60 + j(), 300 + j(), 0.91 - 0.002 * (f % 7)))
        bx = 560 - 9.0 * f
        dets.append((bx + j(), 190 + j(), bx + 50 + j(), 300 + j(), 0.84 + 0.003 * (f % 5)))
        # C: slow downward, occluded 20..27.
        if not 20 <= f <= 27:
            cy = 40 + 2.5 * f
            dets.append((420 + j(), cy + j(), 490 + j(), cy + 70 + j(), 0.78))
        # D: almost static, low score (second association) 35..42.
        dx = 90 + 0.5 * f
        dets.append((dx + j(), 360 + j(), dx + 40 + j(), 440 + j(), 0.31 if 35 <= f <= 42 else 0.74))
        # E: enters at frame 15, moving up-left.
        if f >= 15:
            ex = 600 - 4.0 * (f - 15)
            ey = 420 - 3.0 * (f - 15)
            dets.append((ex - 30 + j(), ey - 30 + j(), ex + j(), ey + j(), 0.67))
        if f == 10:  # one-frame flicker: born, never confirmed (the reference spends an id)
            dets.append((300, 20, 340, 60, 0.88))
        # clutter: low scores, random places (only the second association sees them)
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, 580), rng.uniform(0, 420)
            dets.append((x, y, x + rng.uniform(10, 60), y + rng.uniform(10, 60), rng.uniform(0.12, 0.45)))
        frames.append(dets)
    return frames


def scenario_expiry(rng):
    """40 frames, short buffer: P gone 7 frames (within the buffer + the
    reference's one lingering frame), Q gone 12 frames (a new id)."""
    frames = []
    for f in range(40):
        dets = []
        j = lambda: rng.uniform(-1.0, 1.0)
        if not 10 <= f <= 16:
            px = 50 + 6.0 * f
            dets.append((px + j(), 100 + j(), px + 50 + j(), 200 + j(), 0.9))
        if not 12 <= f <= 23:
            dets.append((400 + j(), 300 + j(), 460 + j(), 380 + j(), 0.8))
        frames.append(dets)
    return frames


def run(frames, settings):
    BaseTrack._count = 0  # ids start at 1 for each sequence
    tracker = BYTETracker(track_thresh=settings["track_thresh"], track_buffer=settings["track_buffer"],
                          match_thresh=settings["match_thresh"], frame_rate=settings["frame_rate"])
    out_frames = []
    for dets in frames:
        rows = []
        for (x1, y1, x2, y2, s) in dets:
            w, h = x2 - x1, y2 - y1
            rows.append([x1 - w / 2, y1 - h / 2, x1 + w / 2, y1 + h / 2, s, 0.0])
        t = torch.tensor(rows, dtype=torch.float64) if rows else torch.zeros((0, 6), dtype=torch.float64)
        res = tracker.update(t, None)
        tracks = []
        for r in (res if len(res) else []):
            w, h = r[2] - r[0], r[3] - r[1]
            tlx, tly = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            tracks.append({"id": int(r[4]), "box": [float(tlx), float(tly), float(tlx + w), float(tly + h)]})
        tracks.sort(key=lambda t: t["id"])
        out_frames.append(tracks)
    return out_frames


def main():
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/tracking")
    out_dir.mkdir(parents=True, exist_ok=True)
    scenarios = {
        "crossing_occlusion": (scenario_main, 0, dict(track_thresh=0.5, match_thresh=0.8, track_buffer=30, frame_rate=30)),
        "expiry": (scenario_expiry, 1, dict(track_thresh=0.5, match_thresh=0.8, track_buffer=6, frame_rate=30)),
    }
    for name, (gen, seed, settings) in scenarios.items():
        rng = np.random.default_rng(seed)
        frames = [[(q(a), q(b), q(c), q(d), f32(s)) for (a, b, c, d, s) in dets] for dets in gen(rng)]
        ref = run(frames, settings)
        doc = {
            "reference": "bytetracker 0.3.2 (PyPI; ifzhang/ByteTrack BYTETracker), python/gen_tracking_reference.py",
            "settings": settings,
            "frames": [{"detections": [{"box": [a, b, c, d], "score": s} for (a, b, c, d, s) in dets],
                        "tracks": tr} for dets, tr in zip(frames, ref)],
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        ids = sorted({t["id"] for fr in ref for t in fr})
        print(f"{path}: {len(frames)} frames, reference ids {ids}")


if __name__ == "__main__":
    main()
