"""Entry point of the frozen app: the same as the `inspector` console command."""

import sys

from inspector.cli import main

if __name__ == "__main__":
    sys.exit(main())
