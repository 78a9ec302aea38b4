"""``python -m amlhandson.cli``: the same as the ``amlhandson`` command."""

import sys

from . import main

sys.exit(main())
