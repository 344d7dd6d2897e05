"""Signals: how a part lower in the layers lets a higher one act, without importing it (indico's habit).

Accounts (auth) and the directory sit below cases; when an account changes, cases must give back what it may no
longer hold, and the users page shows what it holds. Each signal says who sends it, with what, and what a
receiver returns; the receivers are connected where they are defined (`@signal.connect`), and their module is
imported when the app is built. A sender adds up what the receivers return (`results`).
"""
from blinker import Namespace

_signals = Namespace()

account_changed = _signals.signal("account-changed", doc="""
Sent by auth.operations.update_user after an account's role, precinct or state changed (before it is logged);
sender: the account; `by`: who changed it. A receiver gives back what the account may no longer hold and returns
how many items it released.""")

account_holds = _signals.signal("account-holds", doc="""
Sent by the users page; sender: the account. A receiver returns how many open items the account holds.""")

cases_visible = _signals.signal("cases-visible", doc="""
Sent by the notifications page; sender: the user; `case_ids`: the cases its notifications name. A receiver
returns the subset the user may still open (the others are shown unlinked).""")


def results(signal, sender, **kwargs) -> list:
    """What each receiver of `signal` returned for this sending, in connection order."""
    return [value for _receiver, value in signal.send(sender, **kwargs)]

directory_checking = _signals.signal("directory-checking", doc="""
Sent by directory.operations.load_directory before anything is written; sender: the checked rows (dicts with
`row`, `precinct_code`, `community_officer`); `precincts`: the precincts already known, by code. A receiver
returns the problems it finds ("第 N 行：…"); any problem refuses the whole file.""")

community_officers = _signals.signal("community-officers", doc="""
Sent by directory.operations.load_directory after the precincts and communities are written; sender: a list of
(row, precinct, community) for the rows that name a community officer. A receiver sets each community's officer
(finding or creating the account) and returns (accounts created, accounts linked to a precinct).""")
