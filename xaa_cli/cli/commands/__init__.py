"""One module per command group. Modules import only typer and light xaa modules at top level;
heavy libraries (httpx, joserfc, keyring, starlette, rich tables) are imported inside the command functions
so that ``xaa --version`` and shell completion stay fast (see tests/cli/test_startup_imports.py)."""
