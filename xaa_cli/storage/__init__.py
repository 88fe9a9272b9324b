"""Storage: locations, configuration, secret store, token cache, audit log.

Must not import typer, rich, httpx or ``xaa_cli.core``.
"""
