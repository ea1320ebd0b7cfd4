"""QR image rendering benchmark: the wallet's PNG and SVG renderers per code, beside other
renderers measured in the same run on the same CPU. See bench/README.md, section "QR images".

    .venv/bin/python bench/qr.py [--codes 300] [--rounds 3] [--json bench/results/qr.json]

Each renderer draws the same set of distinct presentation texts (47 characters, the shape
`wallet.presentation.encode_qr` makes), one at a time, in one process; every call is timed and
the percentiles are over all calls. Goal (issue 4): the PNG ≤ 5 ms per code. Missing the goal is
printed, not an exit status.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import secrets
import statistics
import sys
import time
from typing import Callable

import qrcode
from qrcode.image.pure import PyPNGImage

try:
    import segno
except ImportError:  # a development dependency: without it, its baseline row is left out
    segno = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO]

from app.qr import render_png, render_svg  # noqa: E402

GOAL_PNG_MS = 5.0


def texts(n: int) -> list[str]:
    return ["YW1." + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=") for _ in range(n)]


def segno_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(out, kind="png", scale=6, border=4)
    return out.getvalue()


def qrcode_pypng(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4,
                         image_factory=PyPNGImage)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def renderers() -> list[tuple[str, str, Callable[[str], bytes]]]:
    return [
        ("wallet PNG (zxing-cpp)", "ours", render_png),
        ("wallet SVG (qrcode)", "ours", render_svg),
        *([("segno PNG", "baseline", segno_png)] if segno is not None else []),
        ("qrcode + PyPNG PNG", "baseline", qrcode_pypng),
    ]


def measure(render: Callable[[str], bytes], codes: list[str], rounds: int) -> dict:
    render(codes[0])  # imports and first-call set-up are not measured
    times, size = [], 0
    for _ in range(rounds):
        for text in codes:
            started = time.perf_counter()
            size = len(render(text))
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"calls": len(times), "mean_ms": statistics.fmean(times), "p50_ms": times[len(times) // 2],
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))], "bytes": size,
            "per_s": 1000 / statistics.fmean(times)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--codes", type=int, default=300, help="distinct texts rendered per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default=os.path.join(HERE, "results", "qr.json"))
    args = p.parse_args(argv)
    codes = texts(args.codes)
    print(f"QR rendering: {args.codes} distinct 47-character texts × {args.rounds} rounds, one process, level M, "
          f"6 px modules, 4-module quiet zone")
    rows = []
    for name, kind, render in renderers():
        r = measure(render, codes, args.rounds)
        rows.append({"renderer": name, "kind": kind, **r})
    png = rows[0]
    print(f"\n{'renderer':24} {'codes/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'bytes':>6}  note")
    for r in rows:
        note = ""
        if r is png:
            note = f"goal ≤ {GOAL_PNG_MS:g} ms: {'met' if r['p99_ms'] <= GOAL_PNG_MS else 'MISSED'} (p99)"
        elif r["kind"] == "baseline":
            note = f"ours is {r['mean_ms'] / png['mean_ms']:.0f}× faster"
        print(f"{r['renderer']:24} {r['per_s']:8.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {r['bytes']:6d}  {note}")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rows": rows}, fh, indent=2)
    print(f"\nresults written to {os.path.relpath(args.json, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
