"""Fixed statements run straight through the database driver, inside the use case's transaction.

SQLAlchemy spends some 40–60 µs of Python on every statement it executes (cache key,
execution context, result metadata), several times what SQLite needs to run a
single-row statement, and a single loan action runs a dozen of them. So the hot statements
of the loan engine are still written in SQLAlchemy Core over `tables.py` (the one
definition of names and types), compiled once per dialect and set of keys, and then sent
to the DBAPI cursor of the same connection: same transaction, same locks, the driver's own
paramstyle, the column types' conversions and Python-side defaults applied as SQLAlchemy
would, and driver errors raised as SQLAlchemy's, so callers and retries see no difference.

Only statements built once (module level) may run here: the cache holds each by identity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.sql.base import Executable

from lendflow.store.uow import UnitOfWork

Processor = Callable[[Any], Any]
Shape = tuple[tuple[str, ...], tuple[tuple[int, Processor], ...]]
"""A statement's result column keys, and the positions whose type converts the value."""
NO_PARAMS: Mapping[str, Any] = {}
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


@dataclass(frozen=True)
class Compiled:
    """One statement as its driver runs it."""

    statement: Executable  # held so that its identity, the cache key, is never reused
    sql: str
    positional: bool
    names: tuple[str, ...]  # every bound value, in the driver's order
    take: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the values of `names`, in order
    constants: dict[str, Any]  # values fixed in the statement (already converted)
    defaults: tuple[tuple[str, Callable[[Any], Any]], ...]  # column defaults made per run
    conversions: tuple[tuple[int, Processor], ...]  # positions whose type converts the value
    columns: tuple[str, ...]  # result column keys
    converters: tuple[tuple[int, Processor], ...]  # result columns whose type converts


_CACHE: dict[tuple[int, str, str, tuple[str, ...]], Compiled] = {}


def compiled(uow: UnitOfWork, statement: Executable, keys: tuple[str, ...]) -> Compiled:
    """`statement` compiled for the unit of work's dialect, for parameters named `keys`."""
    dialect = uow.connection.dialect
    cache_key = (id(statement), dialect.name, dialect.driver, keys)
    found = _CACHE.get(cache_key)
    if found is None:
        found = _CACHE[cache_key] = _compile(uow, statement, keys)
    return found


def _compile(uow: UnitOfWork, statement: Executable, keys: tuple[str, ...]) -> Compiled:
    dialect = uow.connection.dialect
    done = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    by_name = {name: bind for bind, name in done.bind_names.items()}
    prefetch = {c.key: c.default for c in (*done.insert_prefetch, *done.update_prefetch)}
    sql = done.string
    names: list[str] = []
    constants: dict[str, Any] = {}
    defaults: list[tuple[str, Callable[[Any], Any]]] = []
    conversions: list[tuple[int, Processor]] = []
    expanded: dict[str, list[str]] = {}
    for name in list(done.positiontup) if done.positional else list(by_name):
        bind = by_name[name]
        processor = bind.type._cached_bind_processor(dialect)
        default = prefetch.get(name)
        if bind.expanding and name not in keys:
            # A constant IN list: one bound value per member, as SQLAlchemy expands it.
            members = list(bind.effective_value)
            if not members:
                raise ValueError(f"{name}: an empty IN list cannot run through the driver")
            expanded[name] = [f"{name}_{i}" for i in range(1, len(members) + 1)]
            for member, value in zip(expanded[name], members, strict=True):
                names.append(member)
                constants[member] = processor(value) if processor else value
            continue
        if name not in keys and default is None and bind.required:
            raise InvalidRequestError(f"A value is required for bind parameter {name!r}")
        if name not in keys and (default is None or not default.is_callable):
            value = default.arg if default is not None else bind.effective_value
            constants[name] = processor(value) if processor and value is not None else value
        elif processor is not None:
            conversions.append((len(names), processor))
        if name not in keys and default is not None and default.is_callable:
            defaults.append((name, default.arg))
        names.append(name)
    if expanded:
        sql = _POSTCOMPILE.sub(lambda m: _markers(dialect, expanded[m.group(1)]), sql)
    if "__[POSTCOMPILE_" in sql:
        raise ValueError("a statement with an expanding parameter cannot run through the driver")
    columns, converters = _result_shape(done, dialect)
    return Compiled(
        statement,
        sql,
        done.positional,
        tuple(names),
        _taker(names),
        constants,
        tuple(defaults),
        tuple(conversions),
        columns,
        converters,
    )


def _taker(names: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if not names:
        return lambda _params: ()
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    return itemgetter(*names)


def _markers(dialect: Any, names: list[str]) -> str:
    if dialect.paramstyle == "qmark":
        return ", ".join("?" for _ in names)
    if dialect.paramstyle == "pyformat":
        return ", ".join(f"%({n})s" for n in names)
    raise ValueError(f"paramstyle {dialect.paramstyle!r} is not supported")


def _parameters(c: Compiled, params: Mapping[str, Any]) -> Any:
    """The driver's parameters for one run: a tuple (qmark) or a dict (pyformat)."""
    if c.constants or c.defaults:
        params = {**c.constants, **params}
        for name, make in c.defaults:
            params[name] = make(None)  # type: ignore[index]
    elif not c.conversions and not c.positional:
        return params
    values = c.take(params)
    if c.conversions:
        values = list(values)  # type: ignore[assignment]
        for i, convert in c.conversions:
            value = values[i]
            if value is not None:
                values[i] = convert(value)  # type: ignore[index]
    return tuple(values) if c.positional else dict(zip(c.names, values, strict=True))


def execute(uow: UnitOfWork, statement: Executable, params: Mapping[str, Any] = NO_PARAMS) -> Any:
    """Run `statement` once; returns the driver's cursor, its rows not yet fetched."""
    c = compiled(uow, statement, tuple(sorted(params)))
    return _run(uow, c, _parameters(c, params))


def _run(uow: UnitOfWork, c: Compiled, parameters: Any, *, many: bool = False) -> Any:
    cursor = uow.cursor
    try:
        if many:
            cursor.executemany(c.sql, parameters)
        else:
            cursor.execute(c.sql, parameters)
    except uow.driver_error as exc:
        dialect = uow.connection.dialect
        raise DBAPIError.instance(
            c.sql, parameters, exc, uow.driver_error, dialect=dialect, ismulti=many
        ) from exc
    return cursor


def _record(c: Compiled, row: Sequence[Any]) -> dict[str, Any]:
    return _converted(c.columns, c.converters, row)


def _converted(
    columns: tuple[str, ...], converters: tuple[tuple[int, Processor], ...], row: Sequence[Any]
) -> dict[str, Any]:
    record = dict(zip(columns, row, strict=True))
    for i, convert in converters:
        value = row[i]
        if value is not None:
            record[columns[i]] = convert(value)
    return record


def first(
    uow: UnitOfWork, statement: Executable, params: Mapping[str, Any] = NO_PARAMS
) -> dict[str, Any] | None:
    """The first row as a dict of column keys, or None."""
    c = compiled(uow, statement, tuple(sorted(params)))
    row = _run(uow, c, _parameters(c, params)).fetchone()
    return None if row is None else _record(c, row)


def rows(
    uow: UnitOfWork, statement: Executable, params: Mapping[str, Any] = NO_PARAMS
) -> list[dict[str, Any]]:
    """Every row as a dict of column keys."""
    c = compiled(uow, statement, tuple(sorted(params)))
    return [_record(c, row) for row in _run(uow, c, _parameters(c, params)).fetchall()]


def scalar(uow: UnitOfWork, statement: Executable, params: Mapping[str, Any] = NO_PARAMS) -> Any:
    """The first column of the first row (converted), or None when there is no row."""
    c = compiled(uow, statement, tuple(sorted(params)))
    row = _run(uow, c, _parameters(c, params)).fetchone()
    if row is None:
        return None
    value = row[0]
    if value is not None and c.converters and c.converters[0][0] == 0:
        value = c.converters[0][1](value)
    return value


def rowcount(uow: UnitOfWork, statement: Executable, params: Mapping[str, Any] = NO_PARAMS) -> int:
    """Run a write; how many rows it changed."""
    return int(execute(uow, statement, params).rowcount)


def execute_many(uow: UnitOfWork, statement: Executable, batch: Sequence[Mapping[str, Any]]) -> int:
    """Run a statement once per parameter set, in one driver call; returns the rows
    affected (-1 where the driver cannot tell). Every set has the same keys."""
    if not batch:
        return 0
    c = compiled(uow, statement, tuple(sorted(batch[0])))
    cursor = _run(uow, c, [_parameters(c, params) for params in batch], many=True)
    return int(cursor.rowcount)


IDS_PER_STATEMENT = 500
"""Ids bound per statement by `rows_by_ids` (below SQLite's parameter limit)."""


def rows_by_ids(uow: UnitOfWork, statement: Executable, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every row of a statement with an expanding `ids` parameter, as dicts of column keys,
    in batches of ids. Through SQLAlchemy, which expands the list (the driver's compiled
    statements are fixed), but each row is made a dict here, as `rows` makes it: a night's
    notices read some 30,000 instalments, and SQLAlchemy's rows cost twice as much.
    For a batch job's reads of many rows, not a single action's."""
    columns, converters = _shape(uow, statement)
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        batch = {"ids": list(ids[start : start + IDS_PER_STATEMENT])}
        result = uow.connection.execute(statement, batch)
        try:
            fetched = result.cursor.fetchall()
        finally:
            result.close()
        found += [_converted(columns, converters, row) for row in fetched]
    return found


_SHAPES: dict[tuple[int, str, str], tuple[Executable, Shape]] = {}


def _shape(uow: UnitOfWork, statement: Executable) -> Shape:
    """A statement's result column keys and the conversions of its typed columns (the
    statement is held beside them, so that its identity, the key, is never reused)."""
    dialect = uow.connection.dialect
    key = (id(statement), dialect.name, dialect.driver)
    found = _SHAPES.get(key)
    if found is None:
        done = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        found = _SHAPES[key] = (statement, _result_shape(done, dialect))
    return found[1]


def _result_shape(done: Any, dialect: Any) -> Shape:
    columns = tuple(entry[0] for entry in done._result_columns)
    converters = tuple(
        (i, proc)
        for i, entry in enumerate(done._result_columns)
        if (proc := entry[3]._cached_result_processor(dialect, None)) is not None
    )
    return columns, converters


def together(
    uow: UnitOfWork, reads: Sequence[tuple[Executable, Mapping[str, Any]]]
) -> list[list[dict[str, Any]]]:
    """Each read's rows as dicts of column keys, all in one round trip on PostgreSQL.

    The reads are sent in the driver's pipeline mode and answered together, so a use
    case that must read several tables once it holds its lock waits on the server once
    instead of once per table. Each read sees the transaction as it stands, as if they
    ran in turn (which is what they do on SQLite, where a read costs no round trip).
    """
    if uow.dialect != "postgresql":
        return [rows(uow, statement, params) for statement, params in reads]
    runs = [(compiled(uow, s, tuple(sorted(p))), p) for s, p in reads]
    connection = uow.connection.connection.driver_connection  # type: ignore[union-attr]
    cursors = [connection.cursor() for _ in runs]
    try:
        try:
            with connection.pipeline():
                for cursor, (c, params) in zip(cursors, runs, strict=True):
                    cursor.execute(c.sql, _parameters(c, params))
        except uow.driver_error as exc:
            raise DBAPIError.instance(
                "; ".join(c.sql for c, _ in runs),
                [p for _, p in runs],
                exc,
                uow.driver_error,
                dialect=uow.connection.dialect,
            ) from exc
        return [
            [_record(c, row) for row in cursor.fetchall()]
            for cursor, (c, _) in zip(cursors, runs, strict=True)
        ]
    finally:
        for cursor in cursors:
            cursor.close()
