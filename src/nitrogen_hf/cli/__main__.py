"""`python -m nitrogen_hf.cli ...` (e.g. under `accelerate launch -m`)."""

import sys

from nitrogen_hf.cli import main

sys.exit(main())
