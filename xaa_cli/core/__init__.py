"""Protocol core: OAuth/ID-JAG client, discovery, JOSE. All I/O goes through a passed-in ``httpx.Client``.

Must not import typer, rich, keyring, starlette or ``xaa_cli.storage``.
"""
