"""End-to-end tests use the shared reference-server fixtures from tests/support/server.py."""

from tests.support.server import dev_server, live_server, make_dev_server, provision_dev

__all__ = ["dev_server", "live_server", "make_dev_server", "provision_dev"]
