from app.domain.formats import NAMES_OF_DEMUXER, accepted_files
from media.sandbox import ALLOWED_DEMUXERS


def test_every_container_the_sandbox_opens_has_the_names_browsers_give_it():
    assert set(ALLOWED_DEMUXERS) <= set(NAMES_OF_DEMUXER)
    extensions, types = accepted_files()
    assert {"mp4", "mov", "webm", "mkv"} <= set(extensions)
    assert {"video/mp4", "video/quicktime", "video/webm"} <= set(types)
    assert all(not name.startswith(".") and name == name.lower() for name in extensions)


def test_nothing_the_sandbox_refuses_is_offered():
    extensions, _ = accepted_files()
    offered = {demuxer for demuxer, (names, _) in NAMES_OF_DEMUXER.items() if set(names) & set(extensions)}
    assert offered == set(ALLOWED_DEMUXERS)
