"""Conveyor's PDQ against the reference implementation (the `pdqhash` bindings to ThreatExchange's C++,
a dev-only test oracle) on a corpus of varied pictures (tests/pdq_pictures.py), through both of
Conveyor's paths: the blocklist's (`blocklist add`: fingerprint.hash_media) and the content check's
(an upload's frames: the conversion's ffmpeg command with FrameSamples, then the screening's reader).

Run with -s to see every picture's figures."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from media import command, fingerprint, pdq
from media.binaries import find
from media.outputs import FrameSamples
from media.probe import Limits, probe
from media.runner import RunLimits, run
from tests.pdq_pictures import Picture, make_pictures, rgb_of

pdqhash = pytest.importorskip("pdqhash")
pytestmark = pytest.mark.slow  # 52 pictures made and hashed twice: about a minute

ENOUGH = fingerprint.MIN_QUALITY  # the reference's advice: below it a hash is mostly noise
CLOSE = 2  # bits: the agreement asked for
QUALITY_CLOSE = 5


def reference(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """The reference's hash as (4,) words in Conveyor's layout, and its quality."""
    vector, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    bits = vector[::-1].astype(bool)  # the bindings list bit 255 first
    return np.packbits(bits, bitorder="little").view("<u8"), int(quality)


def reference_mirror(rgb: np.ndarray) -> np.ndarray:
    """The reference's hash of the left-right mirror image, as its dihedral hashes make it (from the
    same coefficients, signs changed: ThreatExchange's "flip Y")."""
    vectors, _ = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return np.packbits(vectors[5][::-1].astype(bool), bitorder="little").view("<u8")


def reference_hex(rgb: np.ndarray) -> str:
    """The hex that ThreatExchange's tools write: the bit vector read as one binary number."""
    vector, _ = pdqhash.compute(np.ascontiguousarray(rgb))
    return f"{int(''.join(str(int(b)) for b in vector), 2):064x}"


def screened(picture: Picture, folder: Path) -> fingerprint.Hashes:
    """The picture as an upload would show it (a lossless clip of it), through the content check's path."""
    clip = folder / f"{picture.name}.mkv"
    subprocess.run(
        [find("ffmpeg"), "-y", "-nostdin", "-loglevel", "error", "-loop", "1", "-framerate", "2", "-t", "1",
         "-i", str(picture.path), "-c:v", "ffv1", str(clip)], check=True,
    )
    info = probe(clip, Limits())
    frames = folder / f"{picture.name}.frames"
    run(command.build(clip, info, [FrameSamples(frames)]), info.duration, lambda _: None, lambda: None,
        RunLimits(timeout=120))
    return next(fingerprint.hash_file_of_frames(frames))


@dataclass(frozen=True)
class Compared:
    picture: Picture
    words: np.ndarray  # the reference's
    quality: int
    listed: fingerprint.Hashes  # Conveyor's, blocklist path
    sampled: fingerprint.Hashes  # Conveyor's, content check path
    mirror: np.ndarray  # the reference's mirror hash

    def bits_apart(self, hashes: fingerprint.Hashes) -> int:
        return int(fingerprint.distances(hashes.words[:1], self.words[None, :])[0, 0])

    @property
    def shrunk(self) -> bool:
        """The content check's frames of it are smaller than the picture (PDQ's filter laid over them)."""
        return max(self.picture.width, self.picture.height) > fingerprint.WORKING_SIZE


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> list[Compared]:
    folder = tmp_path_factory.mktemp("pdq")
    found = []
    for picture in make_pictures(folder):
        rgb = rgb_of(picture)
        words, quality = reference(rgb)
        found.append(Compared(picture, words, quality, fingerprint.hash_media(picture.path), screened(picture, folder),
                              reference_mirror(rgb)))
    print(f"\n{'picture':34} {'kind':8} {'quality':>7} {'blocklist':>9} {'check':>6}   (bits apart; quality diff)")
    for c in found:
        print(f"{c.picture.name:34} {c.picture.kind:8} {c.quality:7d} "
              f"{c.bits_apart(c.listed):4d} {int(c.listed.quality[0]) - c.quality:+3d} "
              f"{c.bits_apart(c.sampled):4d} {int(c.sampled.quality[0]) - c.quality:+3d}")
    return found


def summary(label: str, distances: list[int]) -> str:
    return f"{label}: {len(distances)} pictures, max {max(distances)}, median {np.median(distances):g} bits apart"


def test_the_corpus_is_varied(compared):
    kinds = {c.picture.kind for c in compared}
    assert len(compared) >= 50 and kinds == {"photo", "screen", "text", "texture", "noise", "plain"}
    sides = [max(c.picture.width, c.picture.height) for c in compared]
    assert min(sides) < 64 and max(sides) > 2048 and sum(side > 512 for side in sides) >= 20
    assert sum(side <= 512 for side in sides) >= 10
    shapes = {round(c.picture.width / c.picture.height, 1) for c in compared}
    assert len(shapes) >= 8  # landscape, portrait, square, panoramic, tall
    detailed = [c for c in compared if c.quality >= ENOUGH]
    assert len(detailed) >= 40 and {c.picture.kind for c in detailed} >= {"photo", "screen", "text", "texture", "noise"}
    assert all(c.quality < ENOUGH for c in compared if c.picture.kind == "plain")


def test_blocklist_hashes_are_the_references(compared):
    """`blocklist add` reads a picture whole: its hash is the reference's, within rounding."""
    detailed = [c for c in compared if c.quality >= ENOUGH]
    apart = [c.bits_apart(c.listed) for c in detailed]
    print(summary("blocklist path", apart))
    assert max(apart) <= CLOSE, [(c.picture.name, d) for c, d in zip(detailed, apart, strict=True) if d > CLOSE]
    assert all(abs(int(c.listed.quality[0]) - c.quality) <= QUALITY_CLOSE for c in detailed)
    # and the plain ones are refused by both for the same reason
    assert all((int(c.listed.quality[0]) < ENOUGH) == (c.quality < ENOUGH) for c in compared)


def test_content_check_hashes_are_the_references_where_the_frames_are_whole_and_close_elsewhere(compared):
    """An upload's frames: exact when no larger than the working size; when larger, shrunk by ffmpeg and
    within a few bits on photos, screens and text; pixel-fine textures and noise stay well inside the
    match threshold."""
    detailed = [c for c in compared if c.quality >= ENOUGH]
    whole = [c.bits_apart(c.sampled) for c in detailed if not c.shrunk]
    pictures = [c.bits_apart(c.sampled) for c in detailed if c.shrunk and c.picture.kind in ("photo", "screen", "text")]
    fine = [c.bits_apart(c.sampled) for c in detailed if c.shrunk and c.picture.kind in ("texture", "noise")]
    for label, apart in (("whole frames", whole), ("shrunk photos/screens/text", pictures), ("shrunk textures", fine)):
        print(summary(f"content check path, {label}", apart))
    assert max(whole) <= CLOSE
    assert max(pictures) <= 2 * CLOSE and np.median(pictures) <= 1
    assert max(fine) <= 20 < 31  # CONTENT_MATCH_DISTANCE's default
    assert all(abs(int(c.sampled.quality[0]) - c.quality) <= QUALITY_CLOSE for c in detailed)


def test_mirror_hashes_are_the_references(compared):
    """Mirror hashes (for mirrored copies of a video) come from the same coefficients, signs changed,
    as the reference's own dihedral hashes do: the same agreement as the hashes themselves."""
    detailed = [c for c in compared if c.quality >= ENOUGH]

    def apart(hashes: fingerprint.Hashes, c: Compared) -> int:
        return int(fingerprint.distances(hashes.mirror_words[:1], c.mirror[None, :])[0, 0])

    listed = [apart(c.listed, c) for c in detailed]
    print(summary("mirror hashes, blocklist path", listed))
    assert max(listed) <= CLOSE
    whole = [apart(c.sampled, c) for c in detailed if not c.shrunk]
    assert max(whole) <= CLOSE
    pictures = [apart(c.sampled, c) for c in detailed if c.shrunk and c.picture.kind in ("photo", "screen", "text")]
    assert max(pictures) <= 2 * CLOSE and np.median(pictures) <= 1


def test_hex_is_written_as_the_references_tools_write_it(compared):
    picture = next(c.picture for c in compared if c.picture.kind == "photo")
    rgb = rgb_of(picture)
    words, _ = reference(rgb)
    assert fingerprint.to_hex(words) == reference_hex(rgb)
    assert np.array_equal(fingerprint.from_hex(reference_hex(rgb)), words)


def test_the_numpy_construction_is_the_references_bit_for_bit_on_the_same_luma():
    """media/pdq.py given the luma the bindings compute: every bit and the quality agree."""
    rng = np.random.default_rng(5)
    for height, width in [(64, 64), (100, 80), (37, 900), (513, 700), (1080, 1920), (2000, 1500)]:
        y, x = np.mgrid[0:height, 0:width]
        waves = np.stack([127 + 120 * np.sin(x / width * 7 + c) * np.cos(y / height * 5 - c) for c in range(3)], -1)
        for rgb in ((rng.random((height, width, 3)) * 255).astype(np.uint8), waves.astype(np.uint8)):
            words, quality = reference(rgb)
            luma = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.float32)
            hashes = fingerprint.hash_frames(luma[None])
            assert np.array_equal(hashes.words[0], words), (height, width)
            assert int(hashes.quality[0]) == quality
    assert pdq.window(1920) == 15 and pdq.window(128) == 1 and pdq.window(129) == 2
