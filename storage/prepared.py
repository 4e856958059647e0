"""Statements built once, compiled once, and run on SQLite's writer by the sqlite3 module itself.

SQLAlchemy Core spends about four times SQLite's own time on every statement it runs, even one
built once: the statement's cache key is walked, an execution context and a cursor result are set
up (bench/sqlpaths.py). The statements every update runs are marked with `prepared()` where they
are built. On SQLite's writer (`storage.db.InlineSession`) such a statement is compiled once for
the names of the values it is given, and then each run is the compiled SQL, its values put through
the columns' own bind processors, and the rows through their result processors — what SQLAlchemy
does, without the rest; a list of rows for a write is one executemany. Anything this does not
cover (an empty IN list, a column default or a bind value computed in Python, rows of values with
different names, a statement derived from a marked one) goes through SQLAlchemy as before; so does
every statement on PostgreSQL and on aiosqlite's reader.

With `LASTMETER_CHECK_PREPARED` set (the tests set it), every marked SELECT also runs through
SQLAlchemy and the two answers must agree.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util.typing import TupleAny

OPTION = "lastmeter_prepared"
CHECK = bool(os.environ.get("LASTMETER_CHECK_PREPARED"))

_E = TypeVar("_E", bound=Executable)
Processor = Callable[[Any], Any] | None


def prepared(statement: _E) -> _E:
    """The statement, marked to be compiled once and run directly on SQLite's writer."""
    plan = Plan()
    marked = statement.execution_options(**{OPTION: plan})
    plan.statement = marked
    return marked


class Rows(IteratorResult[*TupleAny]):
    """A prepared statement's answer: SQLAlchemy's own `Result` over the rows read, with the
    number of rows a write changed."""

    def __init__(self, meta: SimpleResultMetaData, rows: list[Any], rowcount: int) -> None:
        super().__init__(meta, iter(rows))
        self.rowcount = rowcount


class Form:
    """A statement compiled for one set of value names: its SQL, the order its values go in, and
    the processors of its values and of its columns."""

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.sql = compiled.string
        names = list(compiled.positiontup or [])
        binds = compiled.binds  # by the names the SQL gives them
        processors = compiled._bind_processors
        self.order = [(n, cast(Processor, processors.get(n))) for n in names]
        self.required = frozenset(n for n in names if binds[n].required)
        self.fixed: dict[str, Any] = {
            n: binds[n].effective_value for n in names if not binds[n].required
        }
        for column in compiled.insert_prefetch or compiled.update_prefetch:
            key_of = compiled._within_exec_param_key_getter  # only DML has it
            arg, _scalar, _callable, _sentinel = (
                column._default_description_tuple
                if compiled.insert_prefetch
                else column._onupdate_description_tuple
            )
            self.fixed[key_of(column)] = arg  # Form.build checked: a plain value
        # An IN list: its one placeholder becomes as many as the list has values, at each run.
        self.expanding = {
            name: (f"__[POSTCOMPILE_{name}]", bind.type._cached_bind_processor(dialect))
            for bind in compiled.post_compile_params
            for name in [compiled.bind_names[bind]]
        }
        columns = compiled._result_columns
        self.meta = SimpleResultMetaData([column.keyname for column in columns])
        self.results: list[Processor] = [
            column.type._cached_result_processor(dialect, None) for column in columns
        ]
        self.processed = any(self.results)
        self.returns_rows = bool(columns)
        self.is_select = not (compiled.isinsert or compiled.isupdate or compiled.isdelete)

    @staticmethod
    def build(statement: Executable, dialect: Dialect, keys: Sequence[str]) -> Form | None:
        """The compiled form, or None when it has what only SQLAlchemy's execution does."""
        compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=list(keys))
        if not isinstance(compiled, SQLCompiler) or compiled.literal_execute_params:
            return None
        if not all(p is None or callable(p) for p in compiled._bind_processors.values()):
            return None  # a tuple's processors
        if any(bind.callable is not None for bind in compiled.binds.values()):
            return None  # a value computed at each run
        prefetch = compiled.insert_prefetch or compiled.update_prefetch
        for column in prefetch:
            description = (
                column._default_description_tuple
                if compiled.insert_prefetch
                else column._onupdate_description_tuple
            )
            _arg, scalar, _callable, sentinel = description
            if not scalar or sentinel:
                return None
        return Form(compiled, dialect)

    def arguments(self, values: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
        """The SQL and its arguments for these values (None: SQLAlchemy must run it)."""
        if not self.required.issubset(values):
            missing = sorted(self.required.difference(values))
            raise exc.StatementError(
                f"A value is required for bind parameter {missing[0]!r}", self.sql, values, None
            )
        both = {**self.fixed, **values}
        sql = self.sql
        arguments: list[Any] = []
        try:
            for name, processor in self.order:
                value = both[name]
                if name in self.expanding:
                    token, each = self.expanding[name]
                    if not value:
                        return None  # SQLAlchemy's empty-set expression
                    sql = sql.replace(token, ", ".join("?" * len(value)), 1)
                    arguments.extend(value if each is None else [each(v) for v in value])
                else:
                    arguments.append(value if processor is None else processor(value))
        except Exception as error:  # a value its column refuses: as SQLAlchemy reports it
            raise exc.DBAPIError.instance(self.sql, values, error, sqlite3.Error) from error
        return sql, arguments


class Plan:
    """A marked statement's compiled forms, by the names of the values it was given."""

    statement: Executable

    def __init__(self) -> None:
        self.forms: dict[tuple[str, ...], Form | None] = {}

    def form(self, dialect: Dialect, keys: tuple[str, ...]) -> Form | None:
        if keys not in self.forms:
            self.forms[keys] = Form.build(self.statement, dialect, keys)
        return self.forms[keys]


def plan_of(statement: Executable) -> Plan | None:
    """The plan of a statement marked by `prepared()` (not of one derived from it)."""
    plan = statement._execution_options.get(OPTION)
    if isinstance(plan, Plan) and plan.statement is statement:
        return plan
    return None


def run(
    connection: Connection, plan: Plan, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> Result[*TupleAny] | None:
    """Run a prepared statement on the connection's own sqlite3 connection, in its transaction
    (None: this one must go through SQLAlchemy). A list of values runs a write once for each,
    as one executemany."""
    many = not isinstance(values, Mapping)
    batch = [] if isinstance(values, Mapping) else values
    if many and not batch:
        return None
    first = values if isinstance(values, Mapping) else values[0] if values else {}
    keys = tuple(sorted(first))
    form = plan.form(connection.dialect, keys)
    if form is None or (many and (form.returns_rows or form.expanding)):
        return None
    if many:
        if any(tuple(sorted(each)) != keys for each in batch):
            return None
        sql = form.sql
        arguments: Any = [cast(tuple[str, list[Any]], form.arguments(each))[1] for each in batch]
    else:
        one = form.arguments(first)
        if one is None:
            return None
        sql, arguments = one
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    checked = CHECK and form.is_select  # then SQLAlchemy's run below tells the listeners
    if connection.dispatch.before_cursor_execute and not checked:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, arguments, None, many)
    try:
        if many:
            cursor.executemany(sql, arguments)
        else:
            cursor.execute(sql, arguments)
        rows: list[Any] = list(cursor.fetchall()) if form.returns_rows else []
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(
            sql, arguments, error, sqlite3.Error, dialect=connection.dialect, ismulti=many
        ) from error
    finally:
        rowcount = cursor.rowcount
        cursor.close()
    if form.processed:
        processors = form.results
        rows = [
            tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))
            for row in rows
        ]
    result = Rows(form.meta, rows, rowcount)
    if checked:
        _check(connection, plan.statement, first, result, rows)
    return result


def execute_driver_sql(connection: Connection, sql: str) -> None:
    """A statement without values or rows (BEGIN, SAVEPOINT), run directly on the connection's
    sqlite3 connection; the listeners see it as SQLAlchemy's `exec_driver_sql` would show it."""
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    if connection.dispatch.before_cursor_execute:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, (), None, False)
    try:
        cursor.execute(sql)
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(
            sql, (), error, sqlite3.Error, dialect=connection.dialect
        ) from error
    finally:
        cursor.close()


def _check(
    connection: Connection,
    statement: Executable,
    values: Mapping[str, Any],
    result: Rows,
    rows: list[Any],
) -> None:
    expected = connection.execute(statement, dict(values))
    keys, found = list(expected.keys()), [tuple(row) for row in expected]
    if keys != list(result.keys()) or found != [tuple(row) for row in rows]:
        raise AssertionError(
            f"prepared {statement} answered {list(result.keys())} {rows}, SQLAlchemy {keys} {found}"
        )
