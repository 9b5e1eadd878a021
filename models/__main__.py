"""`python -m models ...`: small operator commands for the persistence layer.

    python -m models hash-password     # prompts twice (or reads one line from stdin) and prints
                                       # CAMPAIGN_LENS_PASSWORD_HASH='scrypt$...'
    python -m models upgrade           # run the database migrations (DATABASE_URL) to head
"""

from __future__ import annotations

import argparse
import getpass
import sys

from metrics.cli_common import Parser, run_guarded
from metrics.errors import UsageError


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Editor password: ")
        second = getpass.getpass("Repeat the password: ")
        if first != second:
            raise UsageError("The two passwords differ; run the command again.")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("The password is empty; type a password (or pipe one line on stdin).")
    if len(password) < 8:
        print("Warning: a password shorter than 8 characters is easy to guess.", file=sys.stderr)
    return password


def _hash_password(_args: argparse.Namespace) -> int:
    from models.auth import hash_password

    value = hash_password(_read_password())
    # Single quotes: the hash contains "$", which a shell or a compose .env would otherwise expand.
    print(f"CAMPAIGN_LENS_PASSWORD_HASH='{value}'")
    return 0


def _upgrade(_args: argparse.Namespace) -> int:
    from models.db import current_revision, make_engine, upgrade_database

    engine = make_engine()
    try:
        upgrade_database(engine)
        print(f"Database at revision {current_revision(engine)}.")
    finally:
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m models", description="Campaign Lens persistence commands.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands.add_parser(
        "hash-password", help="Hash an editor password for CAMPAIGN_LENS_PASSWORD_HASH."
    ).set_defaults(run=_hash_password)
    commands.add_parser("upgrade", help="Migrate the database (DATABASE_URL) to the latest schema.").set_defaults(
        run=_upgrade
    )

    def run() -> int:
        args = parser.parse_args(argv)
        return args.run(args)

    return run_guarded(run)


if __name__ == "__main__":
    sys.exit(main())
