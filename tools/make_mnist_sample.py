"""Build the MNIST sample bundled in ``amlhandson/datasets/_mnist_sample/``.

The sample is a stratified subset of the real MNIST files: for each split the
number of images of each digit is proportional to the digit's share in the full
split (largest-remainder rounding), so the class balance matches the original.
Which images are taken is decided by a fixed hash of (split, index), so the
result is the same on every machine, NumPy version and run. The chosen images
keep their original relative order.

Output files use the original MNIST names and format (IDX, gzip), so both the
hands-on's ``load_data`` and :func:`amlhandson.datasets.mnist.load_data` read
them. The gzip bytes are written without a timestamp or file name, so they are
reproducible given the same zlib.

Usage::

    python tools/make_mnist_sample.py /path/to/mnist            # write the sample
    python tools/make_mnist_sample.py /path/to/mnist --check    # compare, write nothing

``/path/to/mnist`` holds the four original files (``train-images-idx3-ubyte.gz``
... ``t10k-labels-idx1-ubyte.gz``, or the same names without ``.gz``). The script
prints the ``SAMPLE_EXPECTED`` table to paste into ``amlhandson/datasets/mnist/settings.py``.

Example:
    >>> quotas([5, 3, 2], 5)
    [3, 1, 1]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "amlhandson" / "datasets" / "_mnist_sample"

#: Images per split in the sample.
SAMPLE_SIZES = {"train": 6000, "test": 1000}
#: Original file names: split -> (images, labels).
SOURCES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: Hash salt; changing it changes which images are chosen.
SALT = b"amlhandson-mnist-sample-v1"


def read_idx(folder: Path, stem: str) -> bytes:
    """Return the uncompressed bytes of ``stem`` (``stem.gz`` or ``stem``) in ``folder``."""
    gz = folder / f"{stem}.gz"
    if gz.exists():
        with gzip.open(gz) as fh:
            return fh.read()
    return (folder / stem).read_bytes()


def quotas(counts: list[int], total: int) -> list[int]:
    """Split ``total`` over classes proportionally to ``counts`` (largest remainder).

    Ties in the remainder go to the lower class index.
    """
    n = sum(counts)
    exact = [c * total / n for c in counts]
    base = [int(x) for x in exact]
    rest = total - sum(base)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


def select(labels: np.ndarray, split: str, total: int) -> np.ndarray:
    """Return the sorted indices of the stratified sample of ``labels``."""
    digests = b"".join(
        hashlib.sha256(SALT + f"|{split}|{i}".encode()).digest()[:8] for i in range(len(labels))
    )
    keys = np.frombuffer(digests, dtype=">u8")
    counts = [int((labels == c).sum()) for c in range(10)]
    chosen = []
    for c, q in enumerate(quotas(counts, total)):
        idx = np.flatnonzero(labels == c)
        order = np.argsort(keys[idx], kind="stable")
        chosen.append(idx[order[:q]])
    return np.sort(np.concatenate(chosen))


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` reproducibly: no file name, mtime 0, level 9, OS byte 255 (unknown)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = comp.compress(data) + comp.flush()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def build(src: Path) -> dict[str, bytes]:
    """Return ``{original file name + '.gz': gzip bytes}`` of the sample built from ``src``."""
    out: dict[str, bytes] = {}
    for split, (img_stem, lab_stem) in SOURCES.items():
        img = read_idx(src, img_stem)
        lab = read_idx(src, lab_stem)
        magic, n, rows, cols = struct.unpack(">IIII", img[:16])
        lmagic, ln = struct.unpack(">II", lab[:8])
        if magic != 2051 or lmagic != 2049 or n != ln:
            raise SystemExit(f"{src}: not an MNIST {split} pair (magic/count mismatch)")
        labels = np.frombuffer(lab, dtype=np.uint8, offset=8)
        images = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(n, rows * cols)
        idx = select(labels, split, SAMPLE_SIZES[split])
        k = len(idx)
        out[f"{img_stem}.gz"] = gzip_bytes(
            struct.pack(">IIII", 2051, k, rows, cols) + images[idx].tobytes()
        )
        out[f"{lab_stem}.gz"] = gzip_bytes(struct.pack(">II", 2049, k) + labels[idx].tobytes())
    return out


def table(files: dict[str, bytes]) -> str:
    """Return the ``SAMPLE_EXPECTED`` table (uncompressed size, SHA-256, count) as Python."""
    names = {
        "train-images": "train-images-idx3-ubyte.gz",
        "train-labels": "train-labels-idx1-ubyte.gz",
        "test-images": "t10k-images-idx3-ubyte.gz",
        "test-labels": "t10k-labels-idx1-ubyte.gz",
    }
    lines = ["SAMPLE_EXPECTED: dict[str, Expected] = {"]
    for key, fname in names.items():
        raw = gzip.decompress(files[fname])
        count = struct.unpack(">I", raw[4:8])[0]
        sha = hashlib.sha256(raw).hexdigest()
        lines.append(f'    "{key}": Expected(\n        {len(raw)}, "{sha}", {count}\n    ),')
    lines.append("}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="folder with the four original MNIST files")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument(
        "--check", action="store_true", help="compare with the files in --out, write nothing"
    )
    args = ap.parse_args(argv)
    files = build(args.src)
    if args.check:
        bad = []
        for name, data in files.items():
            have = args.out / name
            if not have.exists() or gzip.decompress(have.read_bytes()) != gzip.decompress(data):
                bad.append(name)
        text = table(files)
        print(text)
        module = REPO / "amlhandson" / "datasets" / "mnist" / "settings.py"
        if text not in module.read_text(encoding="utf-8"):
            bad.append(f"SAMPLE_EXPECTED in {module.name}")
        if bad:
            print("differs: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("sample is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")
    print(table(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
