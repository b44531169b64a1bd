"""Draw icon.svg's shapes into a PNG with the standard library only.

    python packaging/icon_png.py [SIZE] [OUTPUT]   (default: 256, packaging/icon-256.png)

The icon is a few rounded rectangles and a triangle, so it is drawn here directly (4x4
supersampling for smooth edges) instead of needing an SVG renderer on the build machine.
Keep the shapes in step with icon.svg.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

# (kind, geometry in the SVG's 256-unit box, RGB); later shapes paint over earlier ones.
SHAPES: list[tuple[str, tuple[float, ...], tuple[int, int, int]]] = [
    ("rrect", (8, 8, 240, 240, 48), (0x1F, 0x3A, 0x5F)),
    ("rrect", (40, 48, 176, 128, 24), (0xF5, 0xF7, 0xFA)),
    ("tri", (72, 168, 72, 212, 116, 168), (0xF5, 0xF7, 0xFA)),
    ("rrect", (64, 76, 128, 18, 9), (0xF0, 0xA8, 0x30)),
    ("rrect", (64, 104, 96, 18, 9), (0x4C, 0xB8, 0xA4)),
    ("rrect", (64, 132, 112, 18, 9), (0xE0, 0x6C, 0x75)),
]


def _in_rrect(px: float, py: float, g: tuple[float, ...]) -> bool:
    x, y, w, h, r = g
    if not (x <= px <= x + w and y <= py <= y + h):
        return False
    cx = min(max(px, x + r), x + w - r)
    cy = min(max(py, y + r), y + h - r)
    return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def _in_tri(px: float, py: float, g: tuple[float, ...]) -> bool:
    x1, y1, x2, y2, x3, y3 = g
    d1 = (px - x2) * (y1 - y2) - (x1 - x2) * (py - y2)
    d2 = (px - x3) * (y2 - y3) - (x2 - x3) * (py - y3)
    d3 = (px - x1) * (y3 - y1) - (x3 - x1) * (py - y1)
    neg = d1 < 0 or d2 < 0 or d3 < 0
    pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (neg and pos)


def _colour_at(px: float, py: float) -> tuple[int, int, int] | None:
    colour = None
    for kind, g, rgb in SHAPES:
        if (_in_rrect if kind == "rrect" else _in_tri)(px, py, g):
            colour = rgb
    return colour


def render(size: int, ss: int = 4) -> bytes:
    """Raw RGBA scanlines, each with PNG filter byte 0."""
    scale = 256 / size
    rows = bytearray()
    n = ss * ss
    for j in range(size):
        rows.append(0)
        for i in range(size):
            r = g = b = a = 0
            for sj in range(ss):
                for si in range(ss):
                    c = _colour_at((i + (si + 0.5) / ss) * scale, (j + (sj + 0.5) / ss) * scale)
                    if c is not None:
                        r += c[0]
                        g += c[1]
                        b += c[2]
                        a += 1
            if a:
                rows += bytes((r // a, g // a, b // a, 255 * a // n))
            else:
                rows += b"\0\0\0\0"
    return bytes(rows)


def write_png(path: Path, size: int) -> None:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name(f"icon-{size}.png")
    write_png(out, size)
    print(f"wrote {out} ({size}x{size})")
