"""`python -m bench.streaming [--quick] [--commit COMMIT]`."""

import sys

from bench.common import main
from bench.streaming import run

if __name__ == "__main__":
    at = None
    if "--commit" in sys.argv:
        index = sys.argv.index("--commit")
        at = sys.argv[index + 1]
        del sys.argv[index : index + 2]
    main(lambda quick: run(quick, at))
