"""The `kesu` command: the one place that assembles the Typer app from the commands of each
slice (deadlines, triage, law, accounts) and of the running system (kesu/cli_run.py).
Shared helpers live in kesu/cli_common.py."""

from __future__ import annotations

import typer

from kesu import cli_import, cli_referrals, cli_run
from kesu.accounts import commands as accounts
from kesu.appeals import commands as appeals
from kesu.channels import commands as channels
from kesu.deadlines import commands as deadlines
from kesu.law import commands as law
from kesu.triage import commands as triage

app = typer.Typer(
    help="kesu 客诉：电信客户投诉处理系统。Complaint handling for telecom operators.",
    no_args_is_help=True,
    add_completion=False,
    # Click's plain help (the groups inherit it): Typer's rich panels print a type such
    # as `<bool>` beside every flag, which says nothing to the operator.
    rich_markup_mode=None,
)
# The order here is the order of `kesu --help`: commands first, then the groups.
app.command()(cli_run.serve)
app.command()(cli_run.demo)
app.command()(cli_run.worker)
app.command()(deadlines.rules)
app.command(name="import")(cli_import.import_file)
app.add_typer(deadlines.calendar_app, name="calendar")
app.add_typer(cli_run.db_app, name="db")
app.add_typer(triage.triage_app, name="triage")
app.add_typer(law.law_app, name="law")
app.add_typer(accounts.user_app, name="user")
app.add_typer(accounts.token_app, name="token")
app.add_typer(accounts.keys_app, name="keys")
app.add_typer(accounts.retention_app, name="retention")
app.add_typer(cli_referrals.referrals_app, name="referrals")
app.add_typer(channels.mail_app, name="mail")
app.add_typer(appeals.appeals_app, name="appeals")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
