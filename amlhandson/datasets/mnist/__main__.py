"""``python -m amlhandson.datasets.mnist``: same as ``amlhandson data mnist``."""

import sys

from .cli import cli_main

if __name__ == "__main__":
    sys.exit(cli_main(prog="python -m amlhandson.datasets.mnist"))
