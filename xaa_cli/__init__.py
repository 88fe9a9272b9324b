"""xaa: the command-line toolkit for Cross-App Access (ID-JAG).

Kept import-free so that ``xaa --version`` and shell completion stay instant.
"""

__version__ = "0.1.0"
