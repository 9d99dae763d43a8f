"""The reads and writes of the nightly sweep, built once; rows read as the driver gives them.

Close of business reads and writes a few hundred thousand rows a night on a
large book, and SQLAlchemy's per-row processing would cost microseconds each, so
`fetch` hands back the driver's own tuples and `execute_rows` passes rows of
plain tuples to the driver's executemany. Dates read come back as the driver
gives them (ISO text on SQLite): callers convert only the few they compute with
(`as_date`).

Queries are shaped for the indexes that serve them: arrears are found per loan id
range in `ix_instalments_arrears` (open instalments already recognised as due), and
instalments falling due today in `ix_instalments_unrecognised` by date and id range.
What those indexes leave out (instalments fallen due but never recognised) is
read by a second, normally empty, part of each query, so nothing is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.functions import FunctionElement

from lendflow.domain.loan import CHARGE_COLUMNS
from lendflow.domain.statuses import OUTSTANDING, LoanStatus
from lendflow.store import range_locks
from lendflow.store.tables import (
    instalments,
    journal_lines,
    loan_provisions,
    loans,
    notices,
    payouts,
)
from lendflow.store.tables import utc_now as utc_now  # the rows' audit stamp, for the steps
from lendflow.store.uow import UnitOfWork

LIVE = tuple(sorted(s.value for s in OUTSTANDING))
SQLITE_CACHE_KIB = 65_536  # page cache of a close-of-business connection


class _Unindexed(FunctionElement[str]):
    """A column no index may serve: `+column` on SQLite, the column itself on PostgreSQL.

    Without statistics SQLite takes the status index for "live and in this id range", then
    looks each of nearly every loan up in the table by id: a third slower than walking
    the range in the table itself, and it would take the status index over the small
    partial ones (`ix_loans_non_accrual`, `ix_loans_held`). PostgreSQL plans by its
    statistics."""

    type = String()
    inherit_cache = True


@compiles(_Unindexed)
def _unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


_IN_RANGE = loans.c.id.between(bindparam("lo"), bindparam("hi"))
_FOLLOWING = bindparam("following", type_=Boolean())
"""The chunk's mark is at the day before: the loans following it close today."""


def _closed_before(table: Any) -> Any:
    """Closed through the day before `d` (`prev`): by its own watermark, or by the
    range's mark for a loan that follows it (`store.cob_marks`)."""
    return or_(
        and_(table.c.follows_from.is_(None), table.c.cob_through == bindparam("prev")),
        and_(table.c.follows_from.is_not(None), _FOLLOWING),
    )


# A date closes the loans closed through the day before it (`prev`); a loan left
# further behind is caught up date by date (`cob.close_range`).
_CLOSED_BEFORE = _closed_before(loans)
_LIVE_OPEN = and_(_Unindexed(loans.c.state).in_(LIVE), _CLOSED_BEFORE)
_FOLLOWS = loans.c.follows_from.is_not(None)
# "+ 0" keeps planners off the loan_id index where a date-first index finds fewer rows.
_ITEM_IN_RANGE_BY_DATE = (instalments.c.loan_id + 0).between(bindparam("lo"), bindparam("hi"))
_ITEM_IN_RANGE = instalments.c.loan_id.between(bindparam("lo"), bindparam("hi"))
_UNPAID = instalments.c.paid_on.is_(None)
_RECOGNISED = instalments.c.recognised == True  # noqa: E712 - matches the partial index
_UNRECOGNISED = instalments.c.recognised == False  # noqa: E712 - matches the partial index


class _Greatest(FunctionElement[int]):
    """The larger of two integers: `max(a, b)` on SQLite, `greatest(a, b)` on PostgreSQL
    (each evaluated once, where a CASE would evaluate its operand twice)."""

    type = BigInteger()
    inherit_cache = True


class _Least(FunctionElement[int]):
    """The smaller of two integers: `min(a, b)` on SQLite, `least(a, b)` on PostgreSQL."""

    type = BigInteger()
    inherit_cache = True


def _called(name: str) -> Callable[..., str]:
    """A compiler writing the element as a call of the SQL function `name`."""

    def compile_call(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
        return f"{name}({compiler.process(element.clauses, **kw)})"

    return compile_call


compiles(_Greatest)(_called("greatest"))
compiles(_Greatest, "sqlite")(_called("max"))
compiles(_Least)(_called("least"))
compiles(_Least, "sqlite")(_called("min"))


def earned_by(day: Any) -> Any:
    """`domain.accrual.earned` of the loan's running period by the end of day number `day`,
    in integer SQL (half up: (2·interest·elapsed + days) div (2·days), all non-negative)."""
    start, days = loans.c.accrual_start, loans.c.accrual_days
    elapsed = _Least(_Greatest(day - start, literal_column("0")), days)
    pro_rata = case(
        (days <= 0, loans.c.accrual_interest),
        else_=(2 * loans.c.accrual_interest * elapsed + days) // (2 * days),
    )
    return _Greatest(pro_rata - loans.c.accrual_waived, literal_column("0"))


_TODAY = bindparam("day", type_=BigInteger())  # the day number, as `accrual_start`
EARNED_TODAY = earned_by(_TODAY)
_ACCRUES = loans.c.accrual_start.is_not(None)
# A loan with no running period has earned nothing more, but may still hold accrual: a
# payment on its last due date, before that night closed, recognised the instalment
# early (its interest left accrual whole, the last day's share not yet accrued). The
# night accrues that difference too, and leaves nothing accrued.
_HOLDS_ACCRUAL = or_(_ACCRUES, loans.c.interest_accrued != 0)
_EARNED_OR_NOTHING = case((_ACCRUES, EARNED_TODAY), else_=0)
_TO_INCOME = loans.c.non_accrual_since.is_(None)


def followed_through(day: Any) -> dict[str, Any]:
    """`domain.accrual.followed` in SQL: a loan's fen-days and accrual through day number
    `day`, derived if it follows its range's mark, as stored if not (its `cob_through`
    is the caller's to set)."""
    later = and_(_FOLLOWS, _ACCRUES, day > loans.c.follows_from)
    earned = earned_by(day)
    return {
        "principal_days": loans.c.principal_days
        + case((_FOLLOWS, loans.c.principal_outstanding * (day - loans.c.follows_from)), else_=0),
        "accrual_income": case(
            (later, loans.c.accrual_income + earned - loans.c.interest_accrued),
            else_=loans.c.accrual_income,
        ),
        "interest_accrued": case((later, earned), else_=loans.c.interest_accrued),
    }


# What a loan stands at through the day before (derived if it follows the mark).
_BEFORE = followed_through(_TODAY - 1)
_ACCRUED_BEFORE = _BEFORE["interest_accrued"]
_PRINCIPAL_DAYS_BEFORE = _BEFORE["principal_days"]

# The earliest date a live loan of the range is closed through by its own watermark (the
# marks its following loans follow are read beside it, `store.cob_chunk_marks.oldest_mark`).
OLDEST_WATERMARK = select(
    func.min(type_coerce(case((loans.c.follows_from.is_(None), loans.c.cob_through)), Date()))
).where(_IN_RANGE, loans.c.state.in_(LIVE))
LIVE_COUNT = select(func.count()).select_from(loans).where(_IN_RANGE, loans.c.state.in_(LIVE))
EXPIRING = select(
    loans.c.id, loans.c.version, loans.c.customer_id, loans.c.approval_expires_on
).where(
    _IN_RANGE,
    loans.c.state == LoanStatus.APPROVED.value,
    loans.c.approval_expires_on < bindparam("d"),
    # a payout already sent may have been paid: it must be finished, never expired
    ~exists().where(payouts.c.loan_id == loans.c.id, payouts.c.status.in_(("pending", "paid"))),
)


# The next instalment of one falling due: the period that starts accruing after it.
_NEXT = instalments.alias("next_instalment")
_FALLING_DUE_COLUMNS = (
    instalments.c.id,
    instalments.c.loan_id,
    *(instalments.c[name] for name in CHARGE_COLUMNS),
    instalments.c.upfront_share,
    instalments.c.n,
    instalments.c.due_date,
    _NEXT.c.due_date,
    _NEXT.c.interest,
    _NEXT.c.interest_waived,
    _NEXT.c.recognised,
)
_WITH_NEXT = instalments.outerjoin(
    _NEXT, and_(_NEXT.c.loan_id == instalments.c.loan_id, _NEXT.c.n == instalments.c.n + 1)
)
# A loan's running period as close of business accrues it, what it has accrued of it,
# and since when it is in non-accrual (`domain.accrual`).
ACCRUAL_COLUMNS = (
    loans.c.accrual_start,
    loans.c.accrual_days,
    loans.c.accrual_interest,
    loans.c.accrual_waived,
    _ACCRUED_BEFORE.label("interest_accrued"),
    loans.c.non_accrual_since,
    loans.c.interest_suspended,
    loans.c.penalty_suspended,
)
_CHARGED_LOAN_COLUMNS = (
    loans.c.id,
    loans.c.version,
    loans.c.interest_receivable,
    loans.c.fee_receivable,
    loans.c.penalty_receivable,
    *ACCRUAL_COLUMNS,
)
# Instalments falling due on `d` (id, loan id, then what `charges_falling_due` reads),
# found by date and id range, with their loan's version and receivables (loan id, version,
# interest, fee and penalty receivable) if it is live and closed through the day before.
FALLING_DUE_TODAY = (
    select(*_FALLING_DUE_COLUMNS, *_CHARGED_LOAN_COLUMNS)
    .select_from(_WITH_NEXT)
    .join(loans, loans.c.id == instalments.c.loan_id)
    .where(_UNRECOGNISED, instalments.c.due_date == bindparam("d"), _ITEM_IN_RANGE, _LIVE_OPEN)
)
# Instalments fallen due before `d` and never recognised (none while the step runs every
# night), and then their loans, read by id: joined in one statement, planners would
# rather walk the whole live book.
FELL_DUE_EARLIER = (
    select(*_FALLING_DUE_COLUMNS)
    .select_from(_WITH_NEXT)
    .where(_UNRECOGNISED, instalments.c.due_date < bindparam("d"), _ITEM_IN_RANGE_BY_DATE)
)
LOANS_TO_CHARGE = select(*_CHARGED_LOAN_COLUMNS).where(
    loans.c.id.in_(bindparam("ids", expanding=True)), _LIVE_OPEN
)

_ARREARS_COLUMNS = (
    instalments.c.id,
    instalments.c.loan_id,
    instalments.c.due_date,
    instalments.c.principal - instalments.c.principal_paid,
    instalments.c.interest - instalments.c.interest_paid - instalments.c.interest_waived,
    instalments.c.fee - instalments.c.fee_paid - instalments.c.fee_waived,
    instalments.c.penalty - instalments.c.penalty_paid,
)
# Unpaid instalments due before `d`: (id, loan_id, due_date, principal, interest, fee,
# penalty still owed). Recognised ones by loan id range, then unrecognised ones by date.
ARREARS = union_all(
    select(*_ARREARS_COLUMNS).where(
        _UNPAID, _RECOGNISED, _ITEM_IN_RANGE, instalments.c.due_date < bindparam("d")
    ),
    select(*_ARREARS_COLUMNS).where(
        _UNPAID, _UNRECOGNISED, instalments.c.due_date < bindparam("d"), _ITEM_IN_RANGE_BY_DATE
    ),
)

LOAN_COLUMNS = (
    loans.c.id,
    loans.c.state,
    loans.c.version,
    loans.c.customer_id,
    loans.c.product_version_id,
    loans.c.dpd,
    loans.c.bucket,
    loans.c.classification,
    loans.c.principal_outstanding,
    loans.c.interest_receivable,
    loans.c.fee_receivable,
    loans.c.penalty_receivable,
    loans.c.held_since,
    loans.c.restructured_on,
    loans.c.overdue_principal_days,
    loans.c.own_classification,
    _PRINCIPAL_DAYS_BEFORE.label("principal_days"),
    *ACCRUAL_COLUMNS,
)
# Loans overdue and closed through the day before `d`, found through the status index. An
# active loan has no days past due: the sweep moves a loan with any to overdue, and
# a cure (by the sweep or by a repayment) sets them back to none.
OVERDUE_BEFORE = select(*LOAN_COLUMNS).where(
    _IN_RANGE, loans.c.state == LoanStatus.OVERDUE.value, _CLOSED_BEFORE
)
LOANS_BY_IDS = select(*LOAN_COLUMNS).where(
    loans.c.id.in_(bindparam("ids", expanding=True)), _LIVE_OPEN
)
# Loans held at a non-performing class after their arrears were paid (`ix_loans_held`).
HELD = select(*LOAN_COLUMNS).where(_IN_RANGE, loans.c.held_since.is_not(None), _LIVE_OPEN)
# Restructured loans, graded every night for the floor of their observation period
# (`ix_loans_restructured`): few, and read whatever their class.
RESTRUCTURED = select(*LOAN_COLUMNS).where(
    _IN_RANGE, loans.c.restructured_on.is_not(None), _LIVE_OPEN
)
# The borrower-level class rule (`close_of_business.borrowers`). Borrowers with a loan
# classed below normal, through `ix_loans_classed` (its condition a literal, so SQLite
# uses it): a small set, made once per statement. It holds written-off loans too (a live
# one's condition would send SQLite to the status index, the whole live book); the
# borrowers' loans are read live only.
_CLASSED = loans.alias("classed")
_CLASSED_BORROWERS = select(_CLASSED.c.customer_id).where(
    _CLASSED.c.classification != literal_column("'normal'")
)
_RANGED = loans.alias("ranged")
# The borrowers of the range's loans still to close whose class the rule may change: one
# the rule made worse (it may let go of it), or one with a loan classed below normal
# anywhere in the book (one pass over the range, each borrower looked up in that set).
BORROWERS_TO_CLASS = (
    select(_RANGED.c.customer_id)
    .distinct()
    .where(
        _RANGED.c.id.between(bindparam("lo"), bindparam("hi")),
        _RANGED.c.state.in_(LIVE),
        _closed_before(_RANGED),
        or_(
            _RANGED.c.own_classification.is_not(None),
            _RANGED.c.customer_id.in_(_CLASSED_BORROWERS),
        ),
    )
)
# ... with the rule off, only the borrowers of the range's loans it made worse, through
# `ix_loans_lifted` alone (none once they have their own class back: nearly free).
LIFTED_BORROWERS = select(loans.c.customer_id).where(
    _IN_RANGE, loans.c.own_classification.is_not(None)
)
# Every loan of some borrowers, wherever it is in the book, as `LOAN_COLUMNS` and whether
# it is closed through the day before (for the chunk's own range: its mark), through their
# customer index (a condition on the status here would send SQLite to the status index,
# the whole live book: the caller keeps the live ones).
BORROWERS_LOANS = select(*LOAN_COLUMNS, case((_CLOSED_BEFORE, 1), else_=0)).where(
    loans.c.customer_id.in_(bindparam("ids", expanding=True))
)
# Each scheduled instalment of held loans (not an upfront fee): due date and when paid.
HELD_INSTALMENTS = select(
    instalments.c.loan_id, instalments.c.due_date, instalments.c.paid_on
).where(instalments.c.loan_id.in_(bindparam("ids", expanding=True)), instalments.c.n > 0)

NOTICES_SENT = select(notices.c.loan_id, notices.c.dpd).where(
    notices.c.loan_id.in_(bindparam("ids", expanding=True)), notices.c.kind == "collection"
)
INSERT_NOTICE = insert(notices).inline()
MARK_RECOGNISED = (
    update(instalments).where(instalments.c.id == bindparam("b_id")).values(recognised=true())
)
ADD_PENALTY = (
    update(instalments)
    .where(instalments.c.id == bindparam("b_id"))
    .values(penalty=instalments.c.penalty + bindparam("b_amount"))
)
# On PostgreSQL some of the night's per-row statements run once over arrays of their rows
# (`execute_rows`): executemany sends the server each row as a statement of its own, some
# 40 µs apiece. Each form takes one array per key, in the keys' order.
UNNESTED: dict[int, Callable[[tuple[str, ...]], str]] = {}
_UNNESTED_SQL: dict[tuple[int, tuple[str, ...]], str] = {}


def unnest_on_postgresql(
    statement: Executable, sql: str | Callable[[tuple[str, ...]], str]
) -> None:
    """Run `statement` as `sql` on PostgreSQL, given one array per key (or as what `sql`
    makes of the keys, for a statement whose columns vary)."""
    UNNESTED[id(statement)] = sql if callable(sql) else (lambda _keys: sql)


def _unnested(statement: Executable, keys: tuple[str, ...]) -> str:
    found = _UNNESTED_SQL.get((id(statement), keys))
    if found is None:
        found = _UNNESTED_SQL[(id(statement), keys)] = UNNESTED[id(statement)](keys)
    return found


unnest_on_postgresql(
    MARK_RECOGNISED, "UPDATE instalments SET recognised = true WHERE id = ANY(%s::integer[])"
)
unnest_on_postgresql(
    ADD_PENALTY,
    "UPDATE instalments SET penalty = instalments.penalty + added.amount"
    " FROM (SELECT id, sum(amount) AS amount FROM unnest(%s::integer[], %s::bigint[])"
    " AS day(id, amount) GROUP BY id) AS added WHERE instalments.id = added.id",
)
# What the all-in charges cap weighs for loans about to accrue penalty, from their
# instalments alone (their fen-days of principal are read with the loan, `LOAN_COLUMNS`):
# all penalty accrued, and the contract charges so far (interest and fees fallen due,
# net of waivers, an upfront fee included).
CHARGES_SO_FAR = (
    select(
        instalments.c.loan_id,
        func.sum(instalments.c.penalty),
        func.sum(
            case(
                (
                    _RECOGNISED,
                    instalments.c.interest
                    - instalments.c.interest_waived
                    + instalments.c.fee
                    - instalments.c.fee_waived,
                ),
                else_=0,
            )
        ),
    )
    .where(instalments.c.loan_id.in_(bindparam("ids", expanding=True)))
    .group_by(instalments.c.loan_id)
)


# The day's accrual to income of the range's live loans closed through the day before:
# what each has earned by today less what is accrued of it already, in one sum; and, from
# the same pass over the range, how many of them follow its open mark (all that follow it).
ACCRUAL_DUE = select(
    func.coalesce(
        func.sum(
            case((and_(_HOLDS_ACCRUAL, _TO_INCOME), _EARNED_OR_NOTHING - _ACCRUED_BEFORE), else_=0)
        ),
        0,
    ),
    func.count(loans.c.follows_from),
).where(_IN_RANGE, _LIVE_OPEN)
# ... and, loan by loan, of the few in non-accrual (their accrual goes to suspense): the
# day's amount, then the loan's columns as `LOANS_TO_CHARGE` reads them.
ACCRUAL_SUSPENDED = select(_EARNED_OR_NOTHING - _ACCRUED_BEFORE, *_CHARGED_LOAN_COLUMNS).where(
    _IN_RANGE, _LIVE_OPEN, _HOLDS_ACCRUAL, loans.c.non_accrual_since.is_not(None)
)
# What the written-off loans still hold: interest paid ahead (it stands against the
# accrual) and the upfront fee not yet earned, by loan.
UNEARNED = (
    select(
        instalments.c.loan_id,
        func.sum(case((_UNRECOGNISED, instalments.c.interest_paid), else_=0)),
        func.sum(case((_UNRECOGNISED, instalments.c.upfront_share), else_=0)),
    )
    .where(instalments.c.loan_id.in_(bindparam("ids", expanding=True)), instalments.c.n > 0)
    .group_by(instalments.c.loan_id)
)
# Per-loan writes carry the version the sweep read: a concurrent change is a conflict.
SET_LOAN = update(loans).where(
    loans.c.id == bindparam("b_id"), loans.c.version == bindparam("b_version")
)


def _arrays(table: Table, keys: tuple[str, ...]) -> str:
    """One typed array parameter per key, each typed as the table's column it names (a
    `b_` key names the column of a WHERE clause)."""
    dialect = postgresql_dialect()
    return ", ".join(
        f"%s::{table.c[key.removeprefix('b_')].type.compile(dialect=dialect)}[]" for key in keys
    )


def insert_over_arrays(table: Table, keys: tuple[str, ...]) -> str:
    """An INSERT of rows given as one array per column `keys` names, kept in their order."""
    names = ", ".join(f'"{key}"' for key in keys)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {names}"
        f" FROM unnest({_arrays(table, keys)}) WITH ORDINALITY AS given({names}, n) ORDER BY n"
    )


def _set_loans_unnested(keys: tuple[str, ...]) -> str:
    """`SET_LOAN` for the columns `keys` names, over one array per key (PostgreSQL)."""
    names = ", ".join(f'"{key}"' for key in keys)
    sets = ", ".join(f'"{key}" = changed."{key}"' for key in keys if not key.startswith("b_"))
    return (
        f"UPDATE loans SET {sets} FROM unnest({_arrays(loans, keys)}) AS changed({names})"
        ' WHERE loans.id = changed."b_id" AND loans.version = changed."b_version"'
    )


unnest_on_postgresql(SET_LOAN, _set_loans_unnested)
# Every live loan of the range closed through the day before by its own watermark: now
# closed through `d`. Closing a day also adds the day's principal outstanding to the loan's
# fen-days, the base of the all-in charges cap: the pages are written anyway, so it costs
# next to nothing. (The loans following the range's mark are not written: the mark moves.)
_EXPLICIT_OPEN = and_(
    _Unindexed(loans.c.state).in_(LIVE),
    loans.c.follows_from.is_(None),
    loans.c.cob_through == bindparam("prev"),
)
WATERMARK = (
    update(loans)
    .where(_IN_RANGE, _EXPLICIT_OPEN)
    .values(
        cob_through=bindparam("d"),
        principal_days=loans.c.principal_days + loans.c.principal_outstanding,
    )
)
# The same, when the day accrued interest (`accrue_interest`): each loan's accrual moves to
# what its running period has earned by today, and what went to income is added up; with
# `converts`, a loan accruing to income follows the range's mark from today on.
WATERMARK_ACCRUING = (
    update(loans)
    .where(_IN_RANGE, _EXPLICIT_OPEN)
    .values(
        cob_through=bindparam("d"),
        principal_days=loans.c.principal_days + loans.c.principal_outstanding,
        accrual_income=case(
            (
                and_(_HOLDS_ACCRUAL, _TO_INCOME),
                loans.c.accrual_income + _EARNED_OR_NOTHING - loans.c.interest_accrued,
            ),
            else_=loans.c.accrual_income,
        ),
        interest_accrued=_EARNED_OR_NOTHING,
        follows_from=case(
            (and_(bindparam("converts", type_=Boolean()), _TO_INCOME), _TODAY), else_=None
        ),
    )
)


# Following loans with news today, before their rows are written: their figures through
# today made current, still following the mark from today (what they store is as of it).
REBASE = (
    update(loans)
    .where(
        loans.c.id.in_(bindparam("ids", expanding=True)),
        _FOLLOWS,
        loans.c.follows_from < _TODAY,
    )
    .values(cob_through=bindparam("d"), follows_from=_TODAY, **followed_through(_TODAY))
)
# A loan's allowance: the sum of its allowance lines, read through the partial index
# `ix_journal_lines_allowance` (its condition written as a literal, so SQLite uses it).
_ALLOWANCE_LINE = journal_lines.c.account == literal_column("'loan_loss_allowance'")
_ALLOWANCE = func.sum(journal_lines.c.credit - journal_lines.c.debit)
ALLOWANCE_IN_RANGE = (
    select(journal_lines.c.loan_id, _ALLOWANCE)
    .where(_ALLOWANCE_LINE, journal_lines.c.loan_id.between(bindparam("lo"), bindparam("hi")))
    .group_by(journal_lines.c.loan_id)
)
ALLOWANCE_OF = (
    select(journal_lines.c.loan_id, _ALLOWANCE)
    .where(_ALLOWANCE_LINE, journal_lines.c.loan_id.in_(bindparam("ids", expanding=True)))
    .group_by(journal_lines.c.loan_id)
)
# What a month end provides for: the range's live loans closed through the day before.
TO_PROVIDE = select(loans.c.id, loans.c.classification, loans.c.principal_outstanding).where(
    _IN_RANGE, _LIVE_OPEN
)
STATES_OF = select(loans.c.id, loans.c.state, loans.c.classification).where(
    loans.c.id.in_(bindparam("ids", expanding=True))
)
# A month end's provision per loan, replacing the loan's row of that day when the month end
# is closed again (reprocessing): an upsert on the primary key, which always finds the row
# through its index. A DELETE per row was planned once, on PostgreSQL while the table was
# still empty, as a scan, and then scanned the table for every loan of a large book.
PROVISION_KEYS = (
    "month_end", "loan_id", "classification", "principal", "rate", "specific", "general"
)  # fmt: skip


def _upsert_provision(insert_for: Any) -> Any:
    statement = insert_for(loan_provisions)
    replaced = {key: statement.excluded[key] for key in PROVISION_KEYS[2:]}
    return statement.on_conflict_do_update(
        index_elements=[loan_provisions.c.month_end, loan_provisions.c.loan_id], set_=replaced
    )


UPSERT_PROVISION = {
    "postgresql": _upsert_provision(postgresql_insert),
    "sqlite": _upsert_provision(sqlite_insert),
}
ID_BATCH = 900  # ids bound per statement: below SQLite's parameter limit on old builds


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # per bound parameter, in the driver's order: the row's index, or None for a constant
    sources: tuple[int | None, ...]
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]  # type conversion of each, if any
    constants: tuple[Any, ...]  # the value of each constant (converted), else None


_COMPILED: dict[tuple[int, str, tuple[str, ...]], _Compiled] = {}


def _compile(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    found = _COMPILED.get((id(statement), dialect.name, keys))
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
    sources, processors, constants = [], [], []
    for name in names:
        bind = compiled.binds[name]
        processor = bind.type._cached_bind_processor(dialect)
        if name in keys:
            sources.append(keys.index(name))
            processors.append(processor)
            constants.append(None)
        else:
            value = bind.effective_value
            sources.append(None)
            processors.append(None)
            constants.append(processor(value) if processor is not None else value)
    found = _Compiled(
        compiled.string,
        compiled.positional,
        tuple(sources),
        names,
        tuple(processors),
        tuple(constants),
    )
    _COMPILED[(id(statement), dialect.name, keys)] = found
    return found


def execute_rows(
    uow: UnitOfWork, statement: Executable, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> int:
    """Run a module-level statement once per row, in one driver call; rows affected.

    Each row is a tuple of the values named by `keys` (the columns an insert or
    update without explicit values sets, and the bound names of its WHERE clause),
    so no dictionary is built per row; on SQLite, rows of plain values go to the
    driver as they are.
    """
    if not rows:
        return 0
    if uow.dialect == "postgresql" and id(statement) in UNNESTED:
        arrays = tuple(list(column) for column in zip(*rows, strict=True))
        return int(uow.connection.exec_driver_sql(_unnested(statement, keys), arrays).rowcount)
    c = _compile(statement, uow.connection.dialect, keys)
    params: Any
    if c.positional and None not in c.sources and not any(c.processors):
        if c.sources == tuple(range(len(keys))):
            params = rows
        elif len(c.sources) == 1:
            params = [(row[c.sources[0]],) for row in rows]
        else:
            params = list(map(itemgetter(*c.sources), rows))
    else:
        # column by column: a conversion (a date, a timestamp) maps over its column once,
        # where converting row by row cost microseconds a row on a night's loan writes
        given = list(zip(*rows, strict=True))
        columns = [
            repeat(constant, len(rows))
            if source is None
            else (map(processor, given[source]) if processor else given[source])
            for source, processor, constant in zip(
                c.sources, c.processors, c.constants, strict=True
            )
        ]
        if c.positional:
            params = list(zip(*columns, strict=True))
        else:
            params = [dict(zip(c.names, row, strict=True)) for row in zip(*columns, strict=True)]
    return int(uow.connection.exec_driver_sql(c.sql, params).rowcount)


def fetch(uow: UnitOfWork, statement: Executable, params: Mapping[str, Any]) -> list[Any]:
    """Every row of `statement` as the driver's own tuples, without per-row processing."""
    result = uow.connection.execute(statement, dict(params))
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def fetch_by_ids(
    uow: UnitOfWork, statement: Executable, ids: list[int], params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """A statement with an expanding `ids` parameter, run in batches of ids."""
    rows: list[tuple[Any, ...]] = []
    for batch in _batches(ids, params):
        rows += fetch(uow, statement, batch)
    return rows


def _batches(ids: list[int], params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """`params` with `ids` bound a batch at a time (`ID_BATCH`)."""
    for start in range(0, len(ids), ID_BATCH):
        yield {**params, "ids": ids[start : start + ID_BATCH]}


PLANNER = (
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
)


def begin_chunk(uow: UnitOfWork, lo: int, hi: int) -> None:
    """Ready the transaction of one chunk's day before any step reads.

    On PostgreSQL the range is locked first (`range_locks.take_range`: by granule of ids,
    its edges by row), so a concurrent repayment waits for the chunk; on SQLite the
    transaction already holds the write lock, and the page cache is made room for the
    pages a chunk dirties, so none is spilled and written twice.

    Every read of the night goes through an index, and PostgreSQL is told so for the
    transaction (`PLANNER`): its statistics cannot see that instalments never recognised
    are all in the future, so for "unrecognised and due before today" (normally none)
    it scanned the whole instalments table, in parallel, for every chunk: on a book of
    a million loans, 19 of the night's 46 seconds.
    """
    if uow.dialect == "postgresql":
        for setting in PLANNER:
            uow.connection.exec_driver_sql(setting)
        range_locks.take_range(uow, lo, hi, LIVE)
    else:
        uow.connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


def oldest_watermark(uow: UnitOfWork, lo: int, hi: int) -> date | None:
    """The earliest date a live loan of the range is closed through (None: no live loan)."""
    found: date | None = uow.connection.execute(OLDEST_WATERMARK, {"lo": lo, "hi": hi}).scalar()
    return found


def expiring_approvals(uow: UnitOfWork, params: Mapping[str, Any]) -> list[Any]:
    """Approved loans of the range past their validity on `d`: (id, version, customer id,
    approval expires on), the date as a date (few a day, so through SQLAlchemy's rows)."""
    return list(uow.connection.execute(EXPIRING, dict(params)).all())


def close_watermark(uow: UnitOfWork, params: Mapping[str, Any], accrued: bool = False) -> int:
    """Move every live loan of the range closed through `prev` by its own watermark to `d`;
    how many moved. `accrued`: the day's accrual was posted, so each loan's accrued
    interest follows (and with `converts` in `params`, it may follow the mark from today)."""
    statement = WATERMARK_ACCRUING if accrued else WATERMARK
    return int(uow.connection.execute(statement, dict(params)).rowcount)


def rebase(uow: UnitOfWork, params: Mapping[str, Any], loan_ids: list[int]) -> None:
    """Make current through `d` the figures of those of `loan_ids` following the mark
    (`REBASE`), before their rows are written."""
    for batch in _batches(loan_ids, params):
        uow.connection.execute(REBASE, batch)


def accrual_due(uow: UnitOfWork, params: Mapping[str, Any]) -> tuple[int, int]:
    """The day's interest accrual to income over the range, and how many loans follow its
    open mark (`ACCRUAL_DUE`)."""
    total, following = uow.connection.execute(ACCRUAL_DUE, dict(params)).one()
    return int(total), int(following)


def live_count(uow: UnitOfWork, params: Mapping[str, Any]) -> int:
    """The range's live loans, whatever date they are closed through."""
    return int(uow.connection.execute(LIVE_COUNT, dict(params)).scalar_one())


def as_date(value: date | str) -> date:
    """A date column's value as a date, whichever way the driver returned it."""
    return value if isinstance(value, date) else date.fromisoformat(value)
