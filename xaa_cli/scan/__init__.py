"""Secret scanning: rules as data and the engine. Stdlib only, offline; never imports ``xaa_cli.core``."""
