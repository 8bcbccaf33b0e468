"""Condition expressions: a safe tokenizer and parser (no eval) compiled into fast evaluators.

One line is one comparison, as operations staff write it:
    complete_rides > 1            success_order_flg is true      coupon_use_value = 100
    final_transaction_status != 'hold_fail'     tariff in ['econom', 'comfort']
    coupon_used is not null       requirements contains 'child_seat'    paid_amount > estimate
Nesting (all / any / not) is written in YAML around these lines, see `rules.rulebook`.
Evaluation is three-valued: a comparison on a missing fact is *unknown*, which never fires a rule,
and `not` of unknown stays unknown, so a missing fact can never make a rule fire by negation.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from rules.errors import ConditionSyntaxError
from rules.facts import FactSchema, FactSpec, FactType, suggest

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?![\w.]))|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<op>==|!=|<=|>=|=|<|>)|(?P<punct>[\[\],])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"is", "not", "in", "true", "false", "null", "contains", "and", "or"}
_ORDERING = {"<", "<=", ">", ">="}
# `v OP lit` is evaluated as `SWAPPED(lit, v)` so the literal can be bound with partial().
_SWAPPED: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.gt,
    "<=": operator.ge,
    ">": operator.lt,
    ">=": operator.le,
}
_DIRECT: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MISSING = object()


@dataclass(frozen=True)
class Token:
    """One lexical token and its 0-based offset in the expression."""

    kind: str  # num, str, op, punct, word, end
    text: str
    offset: int


def tokenize(expr: str) -> list[Token]:
    """Split a condition into tokens; raise ConditionSyntaxError at the first unreadable char."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if match is None or match.lastgroup is None:
            start = len(expr) - len(expr[pos:].lstrip())
            raise ConditionSyntaxError(f"unexpected character {expr[start]!r}", start)
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(expr.rstrip())))
    return tokens


@dataclass(frozen=True)
class Literal:
    """A constant in a condition: number, string, bool, or a list of them."""

    value: Any
    offset: int


@dataclass(frozen=True)
class Comparison:
    """The parsed form of one condition line, before type checking."""

    fact: str
    fact_offset: int
    op: str  # = == != < <= > >= is is_not in not_in contains
    right: Literal | str  # a literal, or the name of another fact
    right_offset: int


class _Parser:
    def __init__(self, expr: str) -> None:
        self.tokens = tokenize(expr)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: Token | None = None) -> ConditionSyntaxError:
        token = token or self.peek()
        found = "the end of the condition" if token.kind == "end" else repr(token.text)
        return ConditionSyntaxError(f"{message}, found {found}", token.offset)

    def parse(self) -> Comparison:
        first = self.take()
        if first.kind != "word" or first.text in _KEYWORDS:
            raise self.fail("a condition starts with a fact name", first)
        comparison = self.parse_rest(first)
        if self.peek().kind != "end":
            if self.peek().text in ("and", "or"):
                raise self.fail("one line holds one comparison; nest lines under all/any instead")
            raise self.fail("expected the end of the condition")
        return comparison

    def parse_rest(self, fact: Token) -> Comparison:
        token = self.take()
        if token.kind == "op":
            right = self.parse_operand()
            return Comparison(
                fact.text, fact.offset, token.text, right, self.tokens[self.i - 1].offset
            )
        if token.text == "is":
            negated = self.peek().text == "not"
            if negated:
                self.take()
            value = self.take()
            if value.text not in ("true", "false", "null"):
                raise self.fail("'is' takes true, false or null", value)
            op = "is_not" if negated else "is"
            literal = Literal(
                {"true": True, "false": False, "null": None}[value.text], value.offset
            )
            return Comparison(fact.text, fact.offset, op, literal, value.offset)
        if token.text in ("in", "not"):
            if token.text == "not" and self.take().text != "in":
                raise self.fail("expected 'in' after 'not'", self.tokens[self.i - 1])
            start = self.peek()
            items = self.parse_list()
            op = "in" if token.text == "in" else "not_in"
            return Comparison(
                fact.text, fact.offset, op, Literal(items, start.offset), start.offset
            )
        if token.text == "contains":
            right = self.parse_operand()
            if not isinstance(right, Literal):
                raise self.fail("'contains' takes a literal", self.tokens[self.i - 1])
            return Comparison(fact.text, fact.offset, "contains", right, right.offset)
        raise self.fail(
            "expected an operator (=, !=, <, <=, >, >=, is, in, not in, contains)", token
        )

    def parse_operand(self) -> Literal | str:
        token = self.take()
        if token.kind == "word" and token.text not in _KEYWORDS:
            return token.text
        return self.literal(token)

    def literal(self, token: Token) -> Literal:
        if token.kind == "num":
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal(number, token.offset)
        if token.kind == "str":
            return Literal(token.text[1:-1], token.offset)
        if token.text in ("true", "false"):
            return Literal(token.text == "true", token.offset)
        raise self.fail("expected a number, a quoted string, true, false or a fact name", token)

    def parse_list(self) -> tuple[Any, ...]:
        if self.take().text != "[":
            raise self.fail("expected '[' to open a list", self.tokens[self.i - 1])
        items = [self.literal(self.take()).value]
        while self.peek().text == ",":
            self.take()
            items.append(self.literal(self.take()).value)
        if self.take().text != "]":
            raise self.fail("expected ',' or ']' in the list", self.tokens[self.i - 1])
        return tuple(items)


def parse_condition(expr: str) -> Comparison:
    """Parse one condition line into a Comparison; raise ConditionSyntaxError."""
    return _Parser(expr).parse()


class ConditionTypeError(ValueError):
    """A condition that parses but does not fit the facts schema; `offset` points at the culprit."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Leaf:
    """A compiled condition: `test` takes the fact value (and the other fact's, if any)."""

    text: str
    fact: str
    other: str | None  # the right-hand fact of a fact-to-fact comparison
    test: Callable[..., bool]
    null_check: bool  # `is null` / `is not null`: decided on presence, never unknown

    def evaluate(self, facts: Mapping[str, Any]) -> tuple[Any, bool | None]:
        """Return (value seen, result); the result is None when a fact it needs is missing."""
        value = facts.get(self.fact, _MISSING)
        if self.null_check:
            return (None if value is _MISSING else value), self.test(value is _MISSING)
        if value is _MISSING or value is None:
            return None, None
        if self.other is None:
            return value, self.test(value)
        other = facts.get(self.other)
        if other is None:
            return value, None
        return value, self.test(value, other)


def _an(kind: FactType) -> str:
    return ("an " if kind.value[0] in "aeiou" else "a ") + kind.value


def _literal_fits(spec: FactSpec, value: Any) -> str | None:
    """Return why `value` cannot be compared with fact `spec`, or None when it fits."""
    kind = spec.type
    if kind is FactType.BOOL:
        return None if isinstance(value, bool) else "is a bool; compare it with true or false"
    if kind.numeric:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"is {_an(kind)}; compare it with a number"
    if kind is FactType.DATETIME:
        if not isinstance(value, str):
            return "is a datetime; compare it with a quoted 'YYYY-MM-DDTHH:MM' date-time"
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f"is a datetime; '{value}' is not an ISO 8601 date-time"
        return None
    if not isinstance(value, str):
        return f"is {_an(kind)}; compare it with a quoted string"
    if kind is FactType.ENUM and value not in spec.values:
        return f"has no value '{value}' (allowed: {', '.join(spec.values)}){suggest(value, spec.values)}"
    return None


def _convert(spec: FactSpec, value: Any) -> Any:
    if spec.type is FactType.DATETIME:
        return datetime.fromisoformat(value)
    if spec.type is FactType.FLOAT:
        return float(value)
    return value


def compile_condition(expr: str, schema: FactSchema) -> Leaf:
    """Parse and type-check one condition line; raise ConditionSyntaxError/ConditionTypeError."""
    cmp = parse_condition(expr)
    spec = schema.get(cmp.fact)
    if spec is None:
        raise ConditionTypeError(
            f"unknown fact '{cmp.fact}'{suggest(cmp.fact, schema.specs)}", cmp.fact_offset
        )
    text = expr.strip()
    if cmp.op in ("is", "is_not"):
        return _compile_is(text, cmp, spec)
    if isinstance(cmp.right, str):
        return _compile_fact_pair(text, cmp, spec, schema)
    if cmp.op in ("in", "not_in"):
        values = cmp.right.value
        for item in values:
            why = _literal_fits(spec, item)
            if why:
                raise ConditionTypeError(f"'{cmp.fact}' {why}", cmp.right_offset)
        members = frozenset(_convert(spec, v) for v in values)
        test = members.__contains__ if cmp.op == "in" else (lambda v: v not in members)
        return Leaf(text, cmp.fact, None, test, False)
    if cmp.op == "contains":
        if spec.type is not FactType.LIST or not isinstance(cmp.right.value, str):
            raise ConditionTypeError(
                f"'contains' needs a list fact and a string; '{cmp.fact}' is {_an(spec.type)}",
                cmp.fact_offset,
            )
        needle = cmp.right.value
        return Leaf(text, cmp.fact, None, lambda v: needle in v, False)
    return _compile_comparison(text, cmp, spec, cmp.right)


def _compile_is(text: str, cmp: Comparison, spec: FactSpec) -> Leaf:
    assert isinstance(cmp.right, Literal)
    wanted = cmp.right.value
    negate = cmp.op == "is_not"
    if wanted is None:
        return Leaf(text, cmp.fact, None, (operator.not_ if negate else bool), True)
    if spec.type is not FactType.BOOL:
        raise ConditionTypeError(
            f"'{cmp.fact}' is {_an(spec.type)}, not a bool; 'is {str(wanted).lower()}' needs a bool",
            cmp.fact_offset,
        )
    target = wanted != negate
    return Leaf(text, cmp.fact, None, partial(operator.is_, target), False)


def _compile_comparison(text: str, cmp: Comparison, spec: FactSpec, right: Literal) -> Leaf:
    why = _literal_fits(spec, right.value)
    if why:
        raise ConditionTypeError(f"'{cmp.fact}' {why}", right.offset)
    orderable = spec.type.numeric or spec.type is FactType.DATETIME
    if cmp.op in _ORDERING and not orderable:
        raise ConditionTypeError(
            f"'{cmp.fact}' is {_an(spec.type)}; '{cmp.op}' needs a number or a date-time",
            cmp.fact_offset,
        )
    return Leaf(text, cmp.fact, None, partial(_SWAPPED[cmp.op], _convert(spec, right.value)), False)


def _compile_fact_pair(text: str, cmp: Comparison, spec: FactSpec, schema: FactSchema) -> Leaf:
    assert isinstance(cmp.right, str)
    other = schema.get(cmp.right)
    if other is None:
        hint = (
            suggest(cmp.right, schema.specs) or f" (to compare with text, quote it: '{cmp.right}')"
        )
        raise ConditionTypeError(f"unknown fact '{cmp.right}'{hint}", cmp.right_offset)
    if cmp.op not in _DIRECT:
        raise ConditionTypeError(f"'{cmp.op}' cannot compare two facts", cmp.right_offset)
    same_kind = (spec.type.numeric and other.type.numeric) or spec.type == other.type
    if not same_kind or (
        cmp.op in _ORDERING and not (spec.type.numeric or spec.type is FactType.DATETIME)
    ):
        raise ConditionTypeError(
            f"cannot compare '{cmp.fact}' ({spec.type.value}) {cmp.op} '{cmp.right}' ({other.type.value})",
            cmp.right_offset,
        )
    return Leaf(text, cmp.fact, cmp.right, _DIRECT[cmp.op], False)
