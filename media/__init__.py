"""The ffmpeg engine: probe a file, plan the ladder, build one command from output objects, run it.

Free of Flask, the database and Redis: it takes typed settings and plain paths, so it can be
tested, benchmarked and reused alone. `tests/unit/test_layers.py` holds it to that.
"""
