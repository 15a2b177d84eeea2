"""Secrets from the environment or from files: `<NAME>`, or the file that `<NAME>_FILE` names.

Compose hands secrets to the containers as files under /run/secrets/ (deploy/compose.yaml), so
they are in neither `.env`, the Compose configuration nor `docker inspect`. Every secret Casebook
reads goes through `secret_value`; docs/operators.md lists them. Run as a module, this is also
the image's entrypoint (deploy/Dockerfile): nameko reads the broker's URI from the environment
only, so the password of AMQP_URI's user is put into it there, before the service starts, and a
cluster's nodes are put in an order of the process's own (`shuffled_nodes`).
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# The variables that may be given as files; each is documented with its `_FILE` form.
SECRETS = (
    "AMQP_PASSWORD",
    "CIPHER_KEY",
    "POSTGRES_PASSWORD",
    "CASEBOOK_JWT_SECRET",
    "CASEBOOK_LEDGER_SIGNING_KEY",
    "CASEBOOK_TRANSPORT_KEY",
    "CASEBOOK_TRANSPORT_RETIRED_KEYS",
)


# What a log shows in place of a password.
REDACTED = "********"


class SecretError(RuntimeError):
    """A secret that is given twice, or whose file cannot be read."""


def rotated_keys(current: str | None, retired: str | None) -> list[str]:
    """A rotated key's setting as a list: the current key, then the retired ones (a
    comma-separated setting, newest first), blanks left out."""
    earlier = [key.strip() for key in (retired or "").split(",") if key.strip()]
    return ([current] if current else []) + earlier


def secret_value(name: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The value of the variable `name`; else the content of the file named by `<name>_FILE`,
    without its final line break; else None."""
    value = environ.get(name)
    path = environ.get(f"{name}_FILE")
    if not path:
        return value
    if value:
        # Which of the two is meant would be a guess, and a wrong key makes a store unreadable.
        raise SecretError(f"{name} and {name}_FILE are both set: set one of them")
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise SecretError(f"{name}_FILE={path}: {error.strerror}") from error


def with_amqp_password(uri: str, environ: Mapping[str, str] = os.environ) -> str:
    """`uri` with AMQP_PASSWORD (or the content of AMQP_PASSWORD_FILE) as the password of its
    user, when that is set; `uri` unchanged otherwise. A cluster's failover URI
    (`amqp://a;amqp://b`, kombu's form) gets it in each of its URIs."""
    password = secret_value("AMQP_PASSWORD", environ)
    if not password:
        return uri
    written = quote(password, safe="")
    return ";".join(_with_password(one, written) for one in uri.split(";"))


def without_amqp_password(uri: str) -> str:
    """`uri` fit for a log: the password of each of a failover URI's URIs masked (nameko's and
    kombu's own masking stops at the first)."""
    return ";".join(_with_password(one, REDACTED) if urlsplit(one).password is not None
                    else one for one in uri.split(";"))


def shuffled_nodes(uri: str, order: random.Random | None = None) -> str:
    """A cluster's failover URI (`amqp://a;amqp://b;amqp://c`) with its nodes in a random order;
    one node's URI unchanged. kombu connects to the first node of the URI and, when that one
    goes, to the next: given the same order, every process of a deployment would be connected
    to one node, the others idle until it fails, and then all of them would move to the same
    second node at once. Each service process takes an order of its own as it starts
    (this module's `main`, `casebook up`), so connections, and the work of the queues'
    consumers, spread over the nodes, and those of a node that goes spread over the rest."""
    nodes = uri.split(";")
    (order or random.SystemRandom()).shuffle(nodes)
    return ";".join(nodes)


def _with_password(uri: str, written: str) -> str:
    """`uri` with `written` (as a URI writes it, quoted) as its user's password."""
    parts = urlsplit(uri)
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{written}@{host}"))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run a command with AMQP_URI carrying the password of AMQP_PASSWORD(_FILE), its nodes
    shuffled."""
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        raise SystemExit("usage: python -m services.runtime.secrets COMMAND [ARGUMENT ...]")
    if os.environ.get("AMQP_URI"):
        os.environ["AMQP_URI"] = shuffled_nodes(with_amqp_password(os.environ["AMQP_URI"]))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
