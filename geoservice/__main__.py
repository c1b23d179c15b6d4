import sys

from geoservice.faces.cli import main

sys.exit(main())
