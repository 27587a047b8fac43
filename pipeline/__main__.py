"""`python -m pipeline demo [--profile demo|thesis]`: everything `make demo` and `make run` need."""

import sys

from pipeline.demo import main

if __name__ == "__main__":
    sys.exit(main())
