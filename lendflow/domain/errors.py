"""The one error hierarchy of lendflow.

Every error a user can cause carries a one-line message that names what is wrong
and where; the CLI maps the class to an exit code in one place (1 for a refusal
by a business rule, 2 for bad input), so use cases never print or exit.
"""

from __future__ import annotations


class LendflowError(Exception):
    """Base of every error lendflow raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(LendflowError):
    """Input that cannot be understood: malformed amounts, dates, files, options."""

    exit_code = 2


class NotFound(BadInput):
    """A named thing (loan, product, user) does not exist."""


class Refused(LendflowError):
    """Well-formed input that a business rule does not allow."""

    exit_code = 1


class Conflict(Refused):
    """Someone else changed the same record first; retry from a fresh read."""


class Forbidden(Refused):
    """The acting user's roles do not grant what the action needs (HTTP 403)."""


class KeyReused(Conflict):
    """An idempotency key already used for a different request: a client's bug (HTTP 422),
    never a second payment and never someone else's answer."""


class Problems(BadInput):
    """Several independent problems found at once (a spec file, a CSV).

    Checks that can find several problems report them all, so a user fixes a file
    in one pass; the message is the first problem plus a count, the list is kept.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "no problems"
        more = len(self.problems) - 1
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(first + suffix)


class FieldProblems(Problems):
    """A form's problems, each named by its field (`fields`: field -> one line), so a
    page can show each beside its field; the message is the first plus a count."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__(list(self.fields.values()))

    def __reduce__(self) -> tuple[type[FieldProblems], tuple[dict[str, str]]]:
        return type(self), (self.fields,)


class FieldRefused(Refused):
    """A business rule refusing the value of one field (an amount outside a product's
    range, a term it does not offer): `field` names it, so a form shows it there."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[type[FieldRefused], tuple[str, str]]:
        return type(self), (self.message, self.field)


class Unauthenticated(LendflowError):
    """No credentials, or credentials that name nobody who may act now: a missing,
    unknown, expired or revoked token, a wrong password, a disabled user. The message
    never says which, so a caller cannot probe for valid names or tokens."""

    exit_code = 2
