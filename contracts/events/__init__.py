"""Contract events, one module per publishing service. Importing this package registers them."""

from contracts.events import archive, audit, cases, resources, supervision  # noqa: F401
