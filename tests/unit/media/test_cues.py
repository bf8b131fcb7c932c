"""Reading WebVTT and SRT into cues: strict, saying where a file goes wrong; cue text keeps only
WebVTT's own markup; written back as WebVTT."""

from __future__ import annotations

import pytest

from media.cues import HLS_TIMESTAMP_MAP, Cue, CueError, Limits, parse, timestamp, to_webvtt

LIMITS = Limits(duration=60)


def text_of(data: str, **limits) -> list[str]:
    return [cue.text for cue in parse(data.encode(), Limits(**{"duration": 60, **limits}))]


def test_webvtt_cues_with_their_times_settings_and_lines():
    data = (
        "\ufeffWEBVTT Kind: captions\nLanguage: en\n\nSTYLE\n::cue { color: red }\n\nNOTE a comment\n\n"
        "intro\n00:01.250 --> 00:00:02.500 align:start line:10% region:r1 size:bogus\nHello\nworld\n\n"
        "01:00:00.000 --> 01:00:01.000\nlate\n"
    )
    first, second = parse(data.encode(), Limits(duration=3601))
    assert first == Cue(1.25, 2.5, "Hello\nworld", "align:start line:10%", 10)
    assert (second.start, second.end, second.line) == (3600.0, 3601.0, 14)


def test_srt_is_read_sorted_and_its_own_markup_dropped():
    data = (
        "2\r\n00:00:03,000 --> 00:00:04,000\r\n{\\an8}<font color=\"#ff0\">Top</font>\r\n\r\n"
        "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>First</i>\r\n"
    )
    assert text_of(data) == ["<i>First</i>", "Top"]


def test_cue_text_keeps_only_webvtt_markup_and_the_rest_is_text():
    data = (
        "WEBVTT\n\n00:00.000 --> 00:01.000\n"
        "<b>b</b> <c.yellow.big>c</c> <v.loud Ann & Bob>v</v> <lang pt-BR>l</lang> <00:00:00.500>t "
        "<script>alert(1)</script> <img src=x onerror=alert(1)> & &amp; &#x41; &bogus; </u> <b onclick=x>y\n"
    )
    (text,) = text_of(data)
    assert text == (
        "<b>b</b> <c.yellow.big>c</c> <v.loud Ann &amp; Bob>v</v> <lang pt-BR>l</lang> <00:00:00.500>t "
        "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; &amp; &amp; &#x41; &amp;bogus; "
        "&lt;/u&gt; <b>y"  # an annotation only v and lang take is dropped
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xc3(\n", "line 4: the file is not UTF-8"),
        (b"WEBVTT\n00:00.000 --> 00:01.000\nx\n", "line 2: a blank line must come between"),
        (b"WEBVTT\n\nhello\nthere\n", "line 3: expected a cue timing line"),
        (b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n00:02.000 --> 00:03.000\ny\n", "line 5: a cue's text can't hold"),
        (b"WEBVTT\n\n00:00.000 -> 00:01.000\nx\n", "line 3: expected a cue timing line"),
        (b"WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", "line 3: '00:61.000' is not a time like 00:00:01.000"),
        (b"WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nx\n", "line 3: '00:00:01,000' is not a time"),
        (b"WEBVTT\n\n00:00:02.000 --> 00:00:02.000\nx\n", "line 3: the cue ends (00:00:02.000) before it starts"),
        (b"WEBVTT\n\n00:00:59.000 --> 00:01:01.500\nx\n", "line 3: the cue ends at 00:01:01.500, after the video's"),
        (b"1\n00:00:01.000 --> 00:00:02\nx\n", "line 2: '00:00:02' is not a time like 00:00:01,000"),
        (b"1\n2\nno timing here\n", "line 2: expected a timing line"),
        (b"just words\n", "line 1: expected a cue number, then a timing line"),
        (b"", "holds no cues"),
        (b"WEBVTT\n", "holds no cues"),
    ],
)
def test_a_bad_file_says_what_is_wrong_and_where(data, says):
    with pytest.raises(CueError, match=None) as refused:
        parse(data, LIMITS)
    assert says in str(refused.value)


def test_a_cue_may_end_a_moment_after_the_video():
    (cue,) = parse(b"WEBVTT\n\n00:00:59.000 --> 00:01:00.900\nx\n", LIMITS)
    assert cue.end == 60.9


def test_size_and_cue_count_are_limited():
    many = "WEBVTT\n\n" + "".join(f"00:00:{i:02d}.000 --> 00:00:{i:02d}.500\nx\n\n" for i in range(5))
    with pytest.raises(CueError, match="5 cues; the limit is 4"):
        parse(many.encode(), Limits(max_cues=4))
    with pytest.raises(CueError, match="The file is 2 KB; the limit is 1 KB"):
        parse(b"WEBVTT\n\n" + b"x" * 2040, Limits(max_bytes=1024))


def test_a_webvtt_file_is_read_as_such_whatever_its_name_but_vtt_insists():
    assert text_of("WEBVTT\n\n00:00.000 --> 00:01.000\nx\n") == ["x"]
    with pytest.raises(CueError, match="line 1: a WebVTT file starts with the line WEBVTT"):
        parse(b"1\n00:00:00,000 --> 00:00:01,000\nx\n", LIMITS, "vtt")


def test_written_back_as_webvtt_with_the_header_hls_asks_for():
    cues = parse(b"1\n00:00:00,100 --> 01:02:03,004\nOne\ntwo\n", Limits(duration=4000))
    assert to_webvtt(cues, hls=True) == f"WEBVTT\n{HLS_TIMESTAMP_MAP}\n\n00:00:00.100 --> 01:02:03.004\nOne\ntwo\n\n"
    again = parse(to_webvtt(cues).encode(), Limits(duration=4000), "vtt")
    assert [(c.start, c.end, c.text) for c in again] == [(c.start, c.end, c.text) for c in cues]
    assert timestamp(3.5) == "00:00:03.500"
