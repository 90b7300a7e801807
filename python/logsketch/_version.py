"""The package's version: the one place it is written.

pyproject.toml reads it (scikit-build-core's regex metadata provider) for the
wheel's and the sdist's metadata, and ``logsketch.__version__`` imports it.
"""

__version__ = "0.1.0"
