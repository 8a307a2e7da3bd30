"""A traced function's inputs: its bound arguments by parameter name, without self/cls.

Built once per decorated function. The common call (every parameter passed positionally,
no ``*args``/``**kwargs`` in the signature) is a single ``dict(zip(...))``; anything else
goes through ``inspect.Signature.bind`` with defaults applied.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_SIMPLE_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_RECEIVER_NAMES = ("self", "cls")

Binder = Callable[[tuple, dict], dict]


def make_binder(func: Callable[..., Any]) -> Binder:
    """``binder(args, kwargs)`` → ``{parameter name: value}`` for calls of ``func``."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature
        return _unbound
    params = list(signature.parameters.values())
    receiver = (
        bool(params) and params[0].name in _RECEIVER_NAMES and params[0].kind in _SIMPLE_KINDS
    )
    receiver_name = params[0].name if receiver else None
    names = tuple(p.name for p in params[1 if receiver else 0 :])
    count = len(params)
    simple = all(p.kind in _SIMPLE_KINDS for p in params)

    def slow(args: tuple, kwargs: dict) -> dict:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:  # the call itself will fail the same way; keep what was passed
            return _unbound(args[1:] if receiver else args, kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if receiver_name is not None:
            arguments.pop(receiver_name, None)
        return arguments

    if not simple:
        return slow
    if receiver:

        def bind_method(args: tuple, kwargs: dict) -> dict:
            if not kwargs and len(args) == count:
                return dict(zip(names, args[1:]))
            return slow(args, kwargs)

        return bind_method

    def bind_function(args: tuple, kwargs: dict) -> dict:
        if not kwargs and len(args) == count:
            return dict(zip(names, args))
        return slow(args, kwargs)

    return bind_function


def _unbound(args: tuple, kwargs: dict) -> dict:
    out: dict[str, Any] = {}
    if args:
        out["args"] = list(args)
    if kwargs:
        out["kwargs"] = dict(kwargs)
    return out
