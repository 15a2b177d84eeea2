# Every target goes through deploy/local.sh, which installs and starts what is missing.
.PHONY: install run test unit integration e2e faults properties bench lint contracts services \
	wheelhouse lock local-images compose-test compose-cluster-test cluster-test

install:
	bash deploy/local.sh install

run:
	bash deploy/local.sh run

test:
	bash deploy/local.sh test

unit:
	bash deploy/local.sh unit

integration:
	bash deploy/local.sh integration

e2e:
	bash deploy/local.sh e2e

# The long form of the fault matrix: faults at random for CASEBOOK_FAULT_MINUTES (default 15).
faults:
	bash deploy/local.sh faults

# The property tests (hypothesis) with CASEBOOK_EXAMPLES_SCALE (default 10) times the examples
# the suite tries: the rare command sequence a short run seldom draws.
properties:
	bash deploy/local.sh properties

bench:
	bash deploy/local.sh bench

services:
	bash deploy/local.sh services

lint: install
	.venv/bin/ruff check contracts services tests
	.venv/bin/mypy contracts services

contracts: install
	.venv/bin/python -m contracts.export

# The wheels deploy/Dockerfile installs from, offline (deploy/wheelhouse/).
wheelhouse:
	bash deploy/local.sh wheelhouse

# deploy/constraints.txt made again from pyproject.toml's pins, after one of them changes.
lock:
	bash deploy/local.sh lock

# RabbitMQ, PostgreSQL, nginx and Python images from Debian's packages, for sites with no
# registry; prints the settings that make Compose use them (append them to deploy/.env).
local-images:
	@bash deploy/images/local-images.sh

# The Compose stack started for real: build, up, the README tour, a crash, down/up, an upgrade.
compose-test:
	bash deploy/local.sh compose

compose-cluster-test:
	bash deploy/local.sh compose-cluster

# Three RabbitMQ nodes, two instances of every service, HTTP load while a node stops and an
# instance is SIGKILLed; prints commands/s with one and two instances. Not in `make test`.
cluster-test:
	bash deploy/local.sh cluster
