"""The reference IdP and resource authorization servers (``xaa dev serve``).

Hermetic: never imports ``xaa_cli.storage`` or keyring; the CLI passes configuration in.
"""
