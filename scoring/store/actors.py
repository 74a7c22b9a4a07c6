"""Who makes a change: a signed-in Principal, whose rights are checked on every call, or the name of a trusted caller.

Every write and every guarded read of scoring.store takes an actor, with no default; `check_allowed` is the one check.
"""

from __future__ import annotations

import getpass

from scoring.access.auth import Action, Principal, authorize

SYSTEM_ACTOR = "hệ thống"  # the app itself: the embedded default seeded on first start (scoring.store.workspace)
COMMAND_LINE = "dòng lệnh"

# Who makes a change, or reads what needs a right (every write and every guarded read takes one, no default):
# - a signed-in `Principal`: its role and departments are checked here, on every call (`check_allowed`);
# - a plain, non-empty name: a caller without an account that is trusted with everything, because whoever runs
#   it already holds the data folder and the database file. Three callers do this, and only they:
#   the command line, as the machine's operator (`command_line_actor()`, "dòng lệnh (root)");
#   first-start seeding and the app's own check of the deadlines (`SYSTEM_ACTOR`);
#   the app in open mode (CCHC_AUTH=off, served to the machine it runs on only), as the name typed in its sidebar.
#   With sign-in on the app never passes a name: ui.actor() gives the signed-in Principal.
Actor = Principal | str


def command_line_actor() -> str:
    """The command line's name in the audit log: the operator's login on this machine, when it can be read."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment nor in the password database
        return COMMAND_LINE
    return f"{COMMAND_LINE} ({login})" if login else COMMAND_LINE


def actor_name(actor: Actor) -> str:
    return actor.username if isinstance(actor, Principal) else (actor or SYSTEM_ACTOR)


def check_allowed(actor: Actor, action: Action, **context) -> None:
    """Permission check for signed-in people; enforced here, not only by hiding buttons. A name is a trusted
    caller (see Actor); anything else (None, an empty name) is a programming error, never an open door."""
    if isinstance(actor, Principal):
        authorize(actor, action, **context)
    else:
        require_trusted(actor)


def require_trusted(actor: Actor) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise TypeError(f"an actor is a Principal or the non-empty name of a trusted caller, not {actor!r}")
