"""The one ffmpeg command: a single guarded read of the source, split into every output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from media import command
from media.binaries import find
from media.ladder import Rung
from media.outputs import FrameSamples, Mp4Rendition
from media.probe import Limits, probe
from media.runner import RunLimits, run
from media.sandbox import ALLOWED_DEMUXERS, MAX_ALLOC_BYTES
from tests.media import streams
from tests.unit.media.conftest import FAST


def input_options(args: list[str]) -> dict[str, str]:
    """The options written before `-i`, as name -> value."""
    before = args[1 : args.index("-i")]
    assert len(before) % 2 == 0, before
    return {before[i].lstrip("-"): before[i + 1] for i in range(0, len(before), 2)}


def filter_graph(args: list[str]) -> str:
    return args[args.index("-filter_complex") + 1]


def test_runs_the_engines_ffmpeg(conversion):
    assert conversion.args[0] == find("ffmpeg")


def test_reads_the_source_once(conversion):
    """However many outputs, the source is opened once, as a local file."""
    assert conversion.args.count("-i") == 1
    assert conversion.args[conversion.args.index("-i") + 1] == f"file:{conversion.source}"


def test_one_split_with_a_branch_per_output(conversion):
    """The decoded picture is split once, into exactly as many branches as there are outputs."""
    graph = filter_graph(conversion.args)
    splits = re.findall(r"(?<!a)split=(\d+)", graph)  # the first: the decoded picture's (an output may split its own)
    assert splits[0] == str(len(conversion.outputs)), graph
    assert splits.count(splits[0]) == 1, graph
    # every branch of the split is used by one output chain
    labels = re.search(r"(?<!a)split=\d+((?:\[\w+\])+);", graph).group(1)
    branches = re.findall(r"\[(\w+)\]", labels)
    assert len(branches) == len(conversion.outputs)
    for branch in branches:
        assert graph.count(f"[{branch}]") == 2, (branch, graph)


def test_every_output_is_written(conversion):
    """Each output's path is one output of the command."""
    for output in conversion.outputs:
        assert conversion.args.count(str(output.path)) == 1


def test_sandbox_guards_are_applied(conversion):
    """The source may only be read through the file protocol, by an allowed demuxer, with allocations capped."""
    options = input_options(conversion.args)
    assert options["protocol_whitelist"] == "file"
    assert set(options["format_whitelist"].split(",")) == set(ALLOWED_DEMUXERS)
    assert "hls" not in options["format_whitelist"].split(",")
    assert options["f"] == conversion.info.demuxer == "mov"
    at = conversion.args.index("-max_alloc")
    assert int(conversion.args[at + 1]) == MAX_ALLOC_BYTES


def test_mov_sources_do_not_follow_external_references(conversion):
    """For MP4/MOV the demuxer is told not to open the files an alias (dref) points to."""
    assert input_options(conversion.args)["enable_drefs"] == "0"


def test_progress_goes_to_stdout_and_overwrites(conversion):
    """The runner reads progress from stdout; an existing output file is replaced, never asked about."""
    args = conversion.args
    assert args[args.index("-progress") + 1] == "pipe:1"
    assert "-nostdin" in args and "-y" in args


def test_other_containers_convert_without_mov_options(clips, tmp_path):
    """A Matroska source is read with its own demuxer and no mov-only option, and converts."""
    source = clips("unit-media-mkv", seconds=1, width=160, height=90, container="matroska")
    info = probe(source, Limits())
    assert info.demuxer == "matroska"
    output = Mp4Rendition(Rung(128, 72), tmp_path / "72p.mp4", FAST)
    args = command.build(source, info, [output])
    options = input_options(args)
    assert options["f"] == "matroska"
    assert "enable_drefs" not in options
    assert re.findall(r"split=(\d+)", filter_graph(args)) == ["1"]
    run(args, info.duration, lambda fraction: None, lambda: None, RunLimits(timeout=60))
    video = next(s for s in streams(output.path) if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (128, 72)


def test_runner_runs_the_built_command(source, tmp_path):
    """The built command runs under runner.run and writes every output, reporting progress up to the end."""
    info = probe(source, Limits())
    outputs = [Mp4Rendition(Rung(160, 90), tmp_path / "90p.mp4", FAST), FrameSamples(tmp_path / "frames.raw")]
    fractions: list[float] = []
    run(command.build(source, info, outputs), info.duration, fractions.append, lambda: None, RunLimits(timeout=60))
    assert all(Path(output.path).stat().st_size > 0 for output in outputs)
    assert fractions and fractions[-1] == pytest.approx(1.0, abs=0.05)
