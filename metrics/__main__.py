"""Entry point for `python -m metrics`."""

import sys

from metrics.cli import main

sys.exit(main())
