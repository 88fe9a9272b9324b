"""The CLI layer: Typer commands and rich rendering. The only layer that imports typer or rich."""
