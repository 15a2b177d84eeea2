"""What the Compose tests share: a Docker engine, and the images with the wheelhouse they
install from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compose.stack import Engine, docker_engine, image_settings, run


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with docker_engine() as engine:
        yield engine


@pytest.fixture(scope="module")
def images(engine: Engine) -> Iterator[dict[str, str]]:
    """The settings that choose the images (none: the official ones), and the wheelhouse."""
    settings = image_settings(engine)
    run(["bash", "deploy/images/wheelhouse.sh"], engine.build_env)
    yield settings
    # Images replaced by a newer build of Casebook's (the upgrade) go; the build stage, which
    # carries no label, stays with the tagged images: the cache of the next run.
    run(["docker", "image", "prune", "--force",
         "--filter", "label=org.opencontainers.image.title=Casebook"], engine.env)
