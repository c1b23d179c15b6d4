"""``python -m geoservice.faces.guide build [--strict]``: build the manual served at /guide/."""

import sys

from . import main

sys.exit(main())
