"""``python -m semitensor``: run the demo (see :mod:`semitensor.demo`)."""
import sys

from .demo import main

sys.exit(main())
