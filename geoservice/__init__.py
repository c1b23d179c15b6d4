"""geoservice: travel-time maps for emergency cardiovascular care."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geoservice")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
