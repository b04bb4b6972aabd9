"""python3 -m icrl_learner: serve the line-delimited JSON protocol on stdin/stdout."""

import sys

from .server import main

sys.exit(main())
