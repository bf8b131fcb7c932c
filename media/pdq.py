"""PDQ, the perceptual picture hash that Meta published and that moderation hash lists use, in numpy.

The construction is the reference implementation's (ThreatExchange's pdq/cpp, which the `pdqhash`
package wraps), step by step:

1. luma from RGB: 0.299 R + 0.587 G + 0.114 B, full range, as floats;
2. a Jarosz filter: a box of `window(L)` = ceil(L / 128) pixels along each axis, applied twice (a
   tent), the box's sum divided by the pixels it covers (fewer at the edges); then the value at the
   centre of each of 64 x 64 cells is kept (pixel floor((i + 0.5) L / 64));
3. a DCT of that 64 x 64 picture, of which the 16 x 16 lowest frequencies without the constant one
   (a 16 x 64 matrix, both sides);
4. one bit per coefficient, set when it is above their median (the lower middle one of 256);
   bit k = 16 * vertical + horizontal frequency, written as 64 hex digits, bit 255 first;
5. quality: the picture's clear gradients, from the same 64 x 64 picture, 0-100.

Written by hand because the reference is a C++ build with no wheel for Linux on our Python: it is
compiled where it is installed, and a worker dyno should need no compiler. The `pdqhash`
bindings are a dev-only test oracle (tests/unit/media/test_pdq_reference.py), and these functions
agree with them bit for bit when given the same luma (there too).

Steps 2 and 3 are linear and separable, so each is one small matrix per axis: the 64 x 64 picture is
`rows @ luma @ columns.T`. A picture may also come already shrunk (ffmpeg makes a video frame no
larger than a working size, so that the content check reads little): the tent is then laid over the
smaller picture where it would have lain over the original, which only needs the original's size.
"""

from __future__ import annotations

from functools import cache

import numpy as np

SIDE = 64  # the picture the DCT is taken of
FREQUENCIES = 16  # per axis: 16 x 16 = 256 bits
LUMA = (0.299, 0.587, 0.114)  # R, G, B


def window(length: int) -> int:
    """The reference's box size along an axis of `length` pixels: half a cell, rounded up."""
    return (length + 2 * SIDE - 1) // (2 * SIDE)


def _boxes(length: int, size: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last pixel of the box around each of `rows` (the reference's box is size // 2 + 1
    pixels right of the centre, the rest left), clipped to the picture."""
    half = (size + 2) // 2
    return np.maximum(rows - (size - half), 0), np.minimum(rows + half - 1, length - 1)


@cache
def _tent(length: int) -> np.ndarray:
    """(64, length) weights: the reference's two box passes and decimation along one axis, exactly."""
    size = window(length)
    centres = (((np.arange(SIDE) + 0.5) * length) / SIDE).astype(np.int64)
    # the second pass: the first pass's values over the box around each centre, averaged
    first, last = _boxes(length, size, centres)
    marks = np.zeros((SIDE, length + 1))
    for cell in range(SIDE):
        inner = np.arange(first[cell], last[cell] + 1)
        # each first-pass value is itself an average over its own box
        lo, hi = _boxes(length, size, inner)
        share = 1.0 / (len(inner) * (hi - lo + 1))
        np.add.at(marks[cell], lo, share)
        np.add.at(marks[cell], hi + 1, -share)
    return np.cumsum(marks, axis=1)[:, :length]


@cache
def weights(samples: int, length: int) -> np.ndarray:
    """(64, samples) weights for an axis of `length` pixels that reached us as `samples` pixels.

    Equal: the reference's own. Fewer (ffmpeg shrank the picture, each pixel standing for the
    stretch of the original around its centre): the reference's tent read at those centres and
    normalized, so that it covers the same part of the picture with the same shape."""
    tent = _tent(length)
    if samples == length:
        return tent.astype(np.float32)
    centres = (np.arange(samples) + 0.5) * length / samples - 0.5  # in the original's pixels
    read = np.stack([np.interp(centres, np.arange(length), row) for row in tent])
    return (read / read.sum(axis=1, keepdims=True)).astype(np.float32)


def downscale(luma: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, h, w) luma of pictures `width` x `height` (h, w no larger) -> (N, 64, 64), as the reference."""
    rows = weights(luma.shape[-2], height)
    columns = weights(luma.shape[-1], width)
    return rows @ (luma.astype(np.float32, copy=False) @ columns.T)


@cache
def _dct() -> np.ndarray:
    """16 x 64 DCT-II rows 1..16: the lowest frequencies, without the constant one."""
    rows = np.arange(1, FREQUENCIES + 1)[:, None]
    cols = np.arange(SIDE)[None, :]
    return np.sqrt(2.0 / SIDE) * np.cos(np.pi / (2 * SIDE) * rows * (2 * cols + 1))


def coefficients(small: np.ndarray) -> np.ndarray:
    """(N, 64, 64) -> (N, 16, 16) DCT coefficients: [vertical frequency, horizontal frequency]."""
    d = _dct()
    return d @ small.astype(np.float64) @ d.T


def mirrored(coeffs: np.ndarray) -> np.ndarray:
    """The coefficients of the left-right mirror image: odd horizontal frequencies change sign."""
    sign = np.where(np.arange(1, FREQUENCIES + 1) % 2 == 1, -1.0, 1.0)
    return coeffs * sign[None, None, :]


def to_words(coeffs: np.ndarray) -> np.ndarray:
    """(N, 16, 16) -> (N, 4) uint64: bit 16 * i + j set when coefficient (i, j) is above the median."""
    flat = coeffs.reshape(len(coeffs), FREQUENCIES * FREQUENCIES)
    median = np.partition(flat, 127, axis=1)[:, 127:128]  # the reference's: the lower of the middle two
    return np.packbits(flat > median, axis=1, bitorder="little").view("<u8")


def quality(small: np.ndarray) -> np.ndarray:
    """The reference's quality: how many clear gradients the 64 x 64 picture has, 0 (flat) to 100."""
    down = np.trunc((small[:, :-1, :] - small[:, 1:, :]) * 100 / 255)
    across = np.trunc((small[:, :, :-1] - small[:, :, 1:]) * 100 / 255)
    total = np.abs(down).sum(axis=(1, 2)).astype(np.int64) + np.abs(across).sum(axis=(1, 2)).astype(np.int64)
    return np.minimum(100, total // 90).astype(np.int32)
