"""``python -m xaa_cli`` runs the same entry point as the ``xaa`` console script."""

from xaa_cli.cli.app import main

if __name__ == "__main__":
    main()
