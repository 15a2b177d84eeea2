"""Casebook's services. Casebook's version is here, once: pyproject.toml, `casebook --version`,
each service's status and its `casebook_build_info` metric read it."""

__version__ = "0.1.0"
