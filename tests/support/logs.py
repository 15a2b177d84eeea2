"""The logging filters deploy/config.yaml puts on a logger, made as `logging.config` makes
them, for a test to put on the logger it watches (configuring the whole of it would change the
test session's own logging)."""

from __future__ import annotations

import logging
import logging.config

import yaml

from services.runtime.launcher import CONFIG_FILE


class ConfigLoader(yaml.SafeLoader):
    """deploy/config.yaml with its `!env_var` values left as written: none of them is read here
    (nameko's own loader lives in a module that imports the deprecated pkg_resources)."""


ConfigLoader.add_constructor("!env_var", ConfigLoader.construct_scalar)


def configured_filters(logger: str) -> list[logging.Filter]:
    """The filters deploy/config.yaml puts on `logger`."""
    return configured()[logger]


def configured() -> dict[str, list[logging.Filter]]:
    """Each logger deploy/config.yaml puts filters on, with its filters."""
    settings = yaml.load(CONFIG_FILE.read_text(), Loader=ConfigLoader)["LOGGING"]
    configurator = logging.config.DictConfigurator(settings)
    return {logger: [configurator.configure_filter(settings["filters"][name])
                     for name in options.get("filters", ())]
            for logger, options in settings["loggers"].items()}
