"""The `casebook` command: run Casebook, look at it, drive it, verify it."""

from __future__ import annotations

import warnings

# nameko 2.14 needs eventlet, which announces its own deprecation on import.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import click  # noqa: E402

from services import __version__  # noqa: E402
from services.runtime.cli.audit import rebuild, replay, verify  # noqa: E402
from services.runtime.cli.backup import backup  # noqa: E402
from services.runtime.cli.broker_users import broker_user  # noqa: E402
from services.runtime.cli.demo import demo  # noqa: E402
from services.runtime.cli.dlq import dlq  # noqa: E402
from services.runtime.cli.events import events, export_  # noqa: E402
from services.runtime.cli.keygen import keygen  # noqa: E402
from services.runtime.cli.status import status  # noqa: E402
from services.runtime.cli.token import token  # noqa: E402
from services.runtime.cli.up import up  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="casebook",
                      message="%(prog)s %(version)s")
def main() -> None:
    """Casebook: the system of record for school social work (T/JHSX 001—2026)."""


main.add_command(up)
main.add_command(status)
main.add_command(demo)
main.add_command(verify)
main.add_command(replay)
main.add_command(rebuild)
main.add_command(events)
main.add_command(export_)
main.add_command(dlq)
main.add_command(backup)
main.add_command(keygen)
main.add_command(broker_user)
main.add_command(token)
