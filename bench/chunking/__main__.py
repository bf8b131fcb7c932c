"""`python -m bench.chunking [--quick] [--commit COMMIT]`."""

import argparse

from bench.chunking import run
from bench.common import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--commit", help="run the stack from this commit's tree")
    at = parser.parse_known_args()[0].commit
    main(lambda quick: run(quick, at))
