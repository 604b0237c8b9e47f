"""Trends formulas (`A+B`, `A/B*100`, `(A-B)/A`): a tiny arithmetic language over series letters.

Parsed with Python's `ast` and evaluated by walking only the node types allowed here, so a formula
can never run code. Division by zero gives 0, as PostHog's formula results do.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence

from app.errors import ValidationError

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b if b else 0.0,
    ast.Mod: lambda a, b: a % b if b else 0.0,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_NODES = 200


def _parse(formula: str) -> ast.expr:
    tree = ast.parse(formula.strip().upper(), mode="eval")
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError("too long")
    return tree.body


def _letters(tree: ast.expr) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError("bad constant")  # noqa: TRY004
        elif not isinstance(node, ast.BinOp | ast.UnaryOp | ast.Load | ast.operator | ast.unaryop):
            raise ValueError("bad node")  # noqa: TRY004
        elif (isinstance(node, ast.BinOp) and type(node.op) not in _BINARY) or (
            isinstance(node, ast.UnaryOp) and type(node.op) not in _UNARY
        ):
            raise ValueError("bad operator")
    return found


def letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"A{index}"


def validate(formula: str, series_count: int, attr: str) -> None:
    try:
        letters = _letters(_parse(formula))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValidationError(f"Invalid formula: {formula[:100]!r}.", attr=attr) from None
    known = {letter(i) for i in range(series_count)}
    if unknown := letters - known:
        raise ValidationError(f"Formula uses unknown series {', '.join(sorted(unknown))}.", attr=attr)


def _evaluate(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, values))
    assert isinstance(node, ast.BinOp)
    return _BINARY[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))


def evaluate(formula: str, series: Mapping[str, Sequence[float]], length: int) -> list[float]:
    """Point-wise value of the formula; series missing from `series` count as zeros."""
    tree = _parse(formula)
    result = []
    for i in range(length):
        point = {name: (float(data[i]) if i < len(data) else 0.0) for name, data in series.items()}
        for name in _letters(tree):
            point.setdefault(name, 0.0)
        try:
            result.append(_evaluate(tree, point))
        except (OverflowError, ZeroDivisionError):
            result.append(0.0)
    return result
