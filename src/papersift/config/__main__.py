"""``python -m papersift.config --doc [docs/CONFIGURATION.md]``: print or rewrite the settings table."""

import sys

from papersift.config.doc import main

sys.exit(main(sys.argv[1:]))
