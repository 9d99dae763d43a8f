"""Who may do what. Every use case checks its permission here, never in the CLI.

Permissions are rules of the lender, so they live in code beside the use cases;
which person holds which role is data: the workspace's `users` table, which
`lendflow init` seeds from its users.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lendflow.config.users import Directory
from lendflow.domain.errors import BadInput, Forbidden, Refused


class Permission(StrEnum):
    APPLY = "apply"
    REVIEW = "review"
    DECIDE = "decide"
    WITHDRAW = "withdraw"
    DISBURSE = "disburse"
    REPAY = "repay"
    REVERSE_REPAYMENTS = "reverse_repayments"
    ASK_LOAN_ACTIONS = "ask_loan_actions"  # ask to waive, accelerate or restructure
    APPROVE_LOAN_ACTIONS = "approve_loan_actions"  # approve what another person asked
    REFUND = "refund"  # pay a credit balance back through the gateway
    READ = "read"
    SEE_PERSONAL_DATA = "see_personal_data"
    AUDIT = "audit"
    MANAGE_PRODUCTS = "manage_products"
    RUN_COB = "run_cob"
    SERVE_CUSTOMERS = "serve_customers"
    RUN_STAGES = "run_stages"
    DECIDE_GATES = "decide_gates"
    MANAGE_KEYS = "manage_keys"  # rotate the workspace key, back up and restore: admin only
    MANAGE_USERS = "manage_users"  # users, roles, passwords and API tokens: admin only
    REPORT_CREDIT = "report_credit"  # send the month's records to the credit reference system
    READ_LEDGER = "read_ledger"  # trial balance, provisions, journal export, month-end report


GRANTS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "operator": frozenset(
        {
            Permission.APPLY,
            Permission.REVIEW,
            Permission.WITHDRAW,
            Permission.DISBURSE,
            Permission.REPAY,
            Permission.REVERSE_REPAYMENTS,  # asked by one person, approved by another
            Permission.ASK_LOAN_ACTIONS,  # a risk officer (or an admin) approves them
            Permission.REFUND,
            Permission.READ,
            Permission.RUN_COB,
            Permission.SERVE_CUSTOMERS,
            Permission.REPORT_CREDIT,  # the month's report, once close of business closed it
        }
    ),
    "risk_officer": frozenset(
        {
            Permission.REVIEW,
            Permission.DECIDE,
            Permission.READ,
            Permission.SEE_PERSONAL_DATA,
            Permission.APPROVE_LOAN_ACTIONS,
        }
    ),
    "auditor": frozenset(
        {Permission.READ, Permission.AUDIT, Permission.REPORT_CREDIT, Permission.READ_LEDGER}
    ),
    # the finance team closes the month: the ledger's reports, and the loans behind them
    "finance": frozenset({Permission.READ, Permission.READ_LEDGER}),
    "product_manager": frozenset(
        {Permission.READ, Permission.MANAGE_PRODUCTS, Permission.RUN_STAGES}
    ),
    "product_committee": frozenset({Permission.READ, Permission.DECIDE_GATES}),
}


KNOWN_ROLES: frozenset[str] = frozenset(GRANTS)
ROLE_SEPARATOR = ","


def parse_roles(stored: str) -> frozenset[str]:
    """The roles of a `users` row (comma-separated, as `format_roles` writes them)."""
    return frozenset(role for role in stored.split(ROLE_SEPARATOR) if role)


def format_roles(roles: frozenset[str] | set[str] | list[str]) -> str:
    """Roles as a `users` row keeps them: sorted, so equal sets are stored equally."""
    return ROLE_SEPARATOR.join(sorted(set(roles)))


def require_known_role(role: str) -> str:
    """A role lendflow grants permissions to; an unknown one is refused, never stored
    (a typo would leave a user who may do nothing, silently)."""
    if role not in KNOWN_ROLES:
        raise BadInput(f"unknown role {role!r}: one of {', '.join(sorted(KNOWN_ROLES))}")
    return role


@dataclass(frozen=True)
class Actor:
    """The person (or scheduled run) on whose behalf a use case runs."""

    name: str
    roles: frozenset[str]

    def can(self, permission: Permission) -> bool:
        return any(permission in GRANTS.get(role, frozenset()) for role in self.roles)

    def require(self, permission: Permission, action: str) -> None:
        if not self.can(permission):
            roles = ", ".join(sorted(self.roles))
            raise Forbidden(f"user {self.name} ({roles}) may not {action}")


SYSTEM = Actor("system", frozenset({"admin"}))


def require_name(name: str | None) -> str:
    """Somebody must be named as acting: nobody is assumed."""
    if not name:
        raise BadInput("who is acting? give --as USER or set LENDFLOW_USER")
    return name


def actor_of_row(name: str, row: tuple[str, bool] | None) -> Actor:
    """The actor a `users` row (its roles, its disabled flag) makes; an unknown or a
    disabled user is refused with one line."""
    if row is None:
        raise BadInput(f"unknown user {name!r} (see lendflow user list)")
    roles, disabled = row
    if disabled:
        raise Refused(f"user {name} is disabled")
    return Actor(name, parse_roles(roles))


def resolve_actor(directory: Directory, name: str | None) -> Actor:
    """The named user of a users.yaml directory (a workspace whose database has no
    users yet), or a clear error when nobody or an unknown user is named."""
    name = require_name(name)
    user = directory.users.get(name)
    if user is None:
        raise BadInput(f"unknown user {name!r} (see users.yaml in the workspace)")
    return Actor(name, frozenset(user.roles))
