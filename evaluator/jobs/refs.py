"""Scorer references → scorers: what jobs and monitors name, made into objects that score.

A reference (``ScorerRef`` in ``jobs.proto``) is a type plus keyword arguments as JSON:

- a built-in scorer (:data:`spyglass.scorer_refs.BUILTIN_SCORERS`): ``Guidelines(**params)``,
  ``make_judge(**params)``;
- an import path ``package.module:attribute``: a Scorer instance (params may only rename
  it), a Scorer subclass (instantiated with the params), or a plain function: with no params
  and declaring a row argument (``inputs``, ``outputs``, ``expectations``, ``trace``) it is
  wrapped with ``@scorer``; otherwise it is a factory, called with the params, that must
  return a Scorer;
- a name registered from a worker's ``--scorers-module`` (:func:`load_modules`: every
  module-level Scorer, by its ``.name`` and by its attribute name).

People write references as dicts ``{"type": "Guidelines", "name": ..., "guidelines": ...}``
or strings (a type, an import path, a registered name, or a JSON object); :func:`to_ref` is
the one parser of those forms, for the Python API and the CLI alike. :func:`check_locally`
is the submitter's check (the collector checks the rest: unknown types, filters, datasets);
:func:`resolve_all` is the worker's, which keeps a reference it cannot load as an
:class:`UnresolvedScorer`, so the rows get an error for that scorer instead of the job
getting stuck.

Modules are imported as ``python -m`` would find them: the current directory is searched
too (after the installed packages).
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

from spyglass.errors import ConfigurationError, InvalidArgumentError, SpyglassError
from spyglass.evaluator.scorers.arguments import ROW_ARGUMENTS
from spyglass.evaluator.scorers.base import Scorer, check_name
from spyglass.scorer_refs import (
    BUILTIN_SCORERS,
    check_ref,
    duplicate_name_problems,
    is_import_path,
    parse_params,
    score_name,
)
from spyglass.v1 import jobs_pb2

ScorerSpec = jobs_pb2.ScorerRef | Mapping[str, Any] | str | Callable[..., Any]
"""What users may pass as a scorer: a ref message, ``{"type": ..., **params}``, a string
(type, import path, registered name or JSON object), or an importable scorer/function/class
defined at module level (sent as its import path)."""

_EXAMPLE = (
    '{"type": "Guidelines", "name": "polite", "guidelines": "Be polite"} or '
    "'mypkg.scorers:my_scorer'"
)


@dataclass(frozen=True)
class UnresolvedScorer:
    """A reference this process could not make into a scorer; its rows get ``error``."""

    type: str
    name: str  # the score name its results would have had (params' name, else a best guess)
    error: str  # "could not load scorer ...: why"


# -- the one parser of user forms ------------------------------------------------------------


def to_ref(spec: ScorerSpec) -> jobs_pb2.ScorerRef:
    """A ``ScorerRef`` for any form users write (see :data:`ScorerSpec`); typed error with
    an example otherwise."""
    if isinstance(spec, jobs_pb2.ScorerRef):
        return spec
    if isinstance(spec, str):
        return _ref_from_text(spec)
    if isinstance(spec, Mapping):
        return _ref_from_mapping(spec)
    known = _builtin_name_of(spec) or _import_path_of(spec)
    if known:
        return jobs_pb2.ScorerRef(type=known)
    cls = type(spec).__name__
    like = (
        f'{{"type": "{cls}", ...its parameters}}'
        if cls in BUILTIN_SCORERS
        else "'package.module:attribute' (defined at module level of an importable module)"
    )
    raise InvalidArgumentError(
        f"scorer {spec!r} cannot be sent to the evaluator service as an object; name it by "
        f"reference instead: {like}, or a name registered with --scorers-module"
    )


def _ref_from_text(text: str) -> jobs_pb2.ScorerRef:
    text = text.strip()
    if not text:
        raise InvalidArgumentError(f"empty scorer reference; write e.g. {_EXAMPLE}")
    if not text.startswith("{"):
        return jobs_pb2.ScorerRef(type=text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(
            f"scorer {text!r} is not valid JSON ({exc}); write e.g. {_EXAMPLE}"
        ) from None
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"scorer {text!r} must be a JSON object, e.g. {_EXAMPLE}")
    return _ref_from_mapping(value)


def _ref_from_mapping(spec: Mapping[str, Any]) -> jobs_pb2.ScorerRef:
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise InvalidArgumentError(
            f'scorer {dict(spec)!r} has no "type"; name a built-in scorer, an import path or '
            f"a registered name, e.g. {_EXAMPLE}"
        )
    params = {k: v for k, v in spec.items() if k != "type"}
    try:
        params_json = json.dumps(params) if params else ""
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"scorer {kind.strip()!r}: its parameters must be JSON "
            f"values (strings, numbers, lists, objects): {exc}"
        ) from None
    return jobs_pb2.ScorerRef(type=kind.strip(), params_json=params_json)


def _builtin_name_of(obj: Any) -> str | None:
    for name, factory in builtin_factories().items():
        if obj is factory:
            return name
    return None


def _import_path_of(obj: Any) -> str | None:
    """``module:qualname`` when ``obj`` is reachable there (module-level, not ``__main__``)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if (
        not (isinstance(module, str) and isinstance(qualname, str))
        or module == "__main__"
        or "<" in qualname
        or module not in sys.modules
    ):
        return None
    try:
        found = _attribute(sys.modules[module], qualname)
    except AttributeError:
        return None
    return f"{module}:{qualname}" if found is obj else None


# -- resolving -------------------------------------------------------------------------------


@functools.cache
def builtin_factories() -> dict[str, Callable[..., Scorer]]:
    """The built-in scorers by name: every concrete Scorer class ``spyglass.evaluator.scorers``
    exports, plus ``make_judge`` (a test keeps ``BUILTIN_SCORERS`` equal to these names)."""
    from spyglass.evaluator import scorers

    bases = {scorers.Scorer, scorers.JudgeScorer}
    found: dict[str, Callable[..., Scorer]] = {
        name: obj
        for name in scorers.__all__
        if isinstance(obj := getattr(scorers, name), type)
        and issubclass(obj, Scorer)
        and obj not in bases
    }
    found["make_judge"] = scorers.make_judge
    return found


def resolve(ref: ScorerSpec, registry: Mapping[str, Scorer] | None = None) -> Scorer:
    """The scorer ``ref`` names; ``registry``: names from :func:`load_modules`.
    InvalidArgumentError (what is wrong and how to fix it) when it cannot be made."""
    message = to_ref(ref)
    kind = message.type.strip()
    where = f"scorer {kind!r}"
    params = parse_params(message.params_json, where)
    registry = registry or {}
    if kind in BUILTIN_SCORERS:
        return _construct(builtin_factories()[kind], params, where)
    if is_import_path(kind):
        return _from_import_path(kind, params, where)
    if kind in registry:
        return _renamed(registry[kind], params, where)
    check_ref(kind, "", registry, "cannot resolve scorer")  # raises its "unknown scorer" message
    raise InvalidArgumentError(f"cannot resolve scorer {kind!r}")  # pragma: no cover


def resolve_all(
    refs: Sequence[ScorerSpec], registry: Mapping[str, Scorer] | None = None
) -> list[Scorer | UnresolvedScorer]:
    """Each reference's scorer, or an :class:`UnresolvedScorer` saying why it could not be
    loaded here (a worker records that on every row rather than failing the chunk)."""
    resolved: list[Scorer | UnresolvedScorer] = []
    for ref in refs:
        try:
            resolved.append(resolve(ref, registry))
        except Exception as exc:  # any failure to load one scorer becomes that scorer's error
            kind = (ref.type if isinstance(ref, jobs_pb2.ScorerRef) else str(ref)).strip()
            why = str(exc).removeprefix(f"scorer {kind!r}: ")
            resolved.append(
                UnresolvedScorer(
                    type=kind,
                    name=expected_name(ref),
                    error=f"could not load scorer {kind!r}: {why}",
                )
            )
    return resolved


def expected_name(ref: ScorerSpec) -> str:
    """The score name ``ref`` gives its results, known without loading it: params' ``name``,
    else the built-in's default name, the import path's attribute, or the registered name."""
    try:
        message = to_ref(ref)
        params = parse_params(message.params_json, "scorer")
    except SpyglassError:
        return str(getattr(ref, "type", ref))
    return score_name(message.type, params)


def check_locally(refs: ScorerSpec | Sequence[ScorerSpec]) -> list[jobs_pb2.ScorerRef]:
    """The submitter's check of one reference or a list: built-ins are constructed (bad
    params rejected with the constructor's message) and import paths imported here; other
    types are left to the collector. Returns the refs; one InvalidArgumentError lists every
    problem."""
    # anything but a list or tuple is one reference (a str is a Sequence too)
    specs = list(refs) if isinstance(refs, (list, tuple)) else [cast("ScorerSpec", refs)]
    if not specs:
        raise InvalidArgumentError(f"give at least one scorer, e.g. {_EXAMPLE}")
    messages: list[jobs_pb2.ScorerRef] = []
    problems: list[str] = []
    built: list[Scorer] = []
    for spec in specs:
        try:
            message = to_ref(spec)
            messages.append(message)
            kind = message.type.strip()
            if kind in BUILTIN_SCORERS or is_import_path(kind):
                built.append(resolve(message))
            else:
                parse_params(message.params_json, f"scorer {kind!r}")
        except SpyglassError as exc:
            problems.append(str(exc))
    problems += duplicate_name_problems([s.name for s in built])
    if problems:
        raise InvalidArgumentError("; ".join(problems))
    return messages


def load_modules(modules: Sequence[str]) -> dict[str, Scorer]:
    """Every module-level Scorer of ``modules`` (``--scorers-module``) by its ``.name`` and
    by its attribute name. ConfigurationError when a module cannot be imported, defines no
    scorer, or two different scorers claim one name."""
    registry: dict[str, Scorer] = {}
    owners: dict[str, str] = {}
    for module_name in (m.strip() for m in modules):
        if not module_name:
            continue
        where = f"--scorers-module {module_name}"
        try:
            module = _import(module_name)
        except ImportError as exc:
            raise ConfigurationError(
                f"{where}: {exc}; install it, or run from (or add to "
                "PYTHONPATH) the directory that holds it"
            ) from exc
        found = [
            (attr, value)
            for attr, value in vars(module).items()
            if not attr.startswith("_") and isinstance(value, Scorer)
        ]
        if not found:
            raise ConfigurationError(
                f"{where}: the module defines no scorer at module level "
                "(a @scorer function or a Scorer instance)"
            )
        for attr, value in found:
            for key in dict.fromkeys((value.name, attr)):
                if key in registry and registry[key] is not value:
                    raise ConfigurationError(
                        f"{where}: two scorers answer to {key!r} ({owners[key]} and "
                        f"{module_name}.{attr}); give one another name (name=...)"
                    )
                registry[key], owners[key] = value, f"{module_name}.{attr}"
    return registry


def _import(module_name: str) -> ModuleType:
    """Import ``module_name`` (current directory searched last); ImportError with the reason
    for any failure, including errors raised by the module's own code."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import {module_name!r} ({exc})") from exc
    except Exception as exc:  # the module's own code failed while importing
        raise ImportError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc


def _attribute(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _from_import_path(path: str, params: dict[str, Any], where: str) -> Scorer:
    module_name, _, attr = path.partition(":")
    try:
        module = _import(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"{where}: {exc}; make it importable here and on every "
            "evaluator, or register it with --scorers-module"
        ) from exc
    try:
        obj = _attribute(module, attr)
    except AttributeError:
        raise InvalidArgumentError(
            f"{where}: module {module_name!r} has no attribute {attr!r}"
        ) from None
    if isinstance(obj, Scorer):
        return _renamed(obj, params, where)
    if isinstance(obj, type):
        if issubclass(obj, Scorer):
            return _construct(obj, params, where)
        raise InvalidArgumentError(
            f"{where}: class {obj.__name__} is not a Scorer subclass; "
            "subclass spyglass.evaluator.scorers.Scorer"
        )
    if not callable(obj):
        raise InvalidArgumentError(
            f"{where}: {type(obj).__name__} is not a scorer; point at a "
            "@scorer function, a Scorer instance or class, or a "
            "factory returning a Scorer"
        )
    if not params and _reads_a_row(obj):
        from spyglass.evaluator.scorers.decorator import scorer

        try:
            return scorer(obj)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}: {exc}") from None
    return _construct(obj, params, where)


def _reads_a_row(func: Callable[..., Any]) -> bool:
    """True when ``func`` declares a row argument (so it is a scorer, not a factory)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name in ROW_ARGUMENTS or p.kind is p.VAR_KEYWORD for p in params)


def _construct(factory: Callable[..., Any], params: dict[str, Any], where: str) -> Scorer:
    """``factory(**params)``, which must give a Scorer; its complaints become the message."""
    accepted, open_ended = _keywords(factory)
    unknown = [] if open_ended else sorted(set(params) - set(accepted))
    takes = f"; it takes {', '.join(accepted + ['...'] * open_ended) or 'no parameters'}"
    if unknown:
        raise InvalidArgumentError(f"{where}: unknown parameter(s) {', '.join(unknown)}{takes}")
    try:
        made = factory(**params)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}") from None
    except TypeError as exc:  # e.g. a required parameter is missing
        reason = re.sub(r"^[\w.]+\(\) ", "", str(exc))
        raise InvalidArgumentError(f"{where}: {reason}{takes}") from None
    except Exception as exc:  # whatever the factory raised is the parameters' fault
        raise InvalidArgumentError(f"{where}: {type(exc).__name__}: {exc}") from None
    if not isinstance(made, Scorer):
        raise InvalidArgumentError(
            f"{where}: the factory returned {type(made).__name__}, not "
            "a Scorer; return a @scorer function or a Scorer instance"
        )
    return made


def _keywords(factory: Callable[..., Any]) -> tuple[list[str], bool]:
    """The keyword parameters ``factory`` takes (following ``**options`` up a class's
    ``__init__`` chain), and whether it takes any keyword at all (an unfollowed ``**``)."""
    chain = (
        [c.__dict__["__init__"] for c in factory.__mro__ if "__init__" in c.__dict__]
        if isinstance(factory, type)
        else [factory]
    )
    names: list[str] = []
    for func in chain:
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            return names, True
        names += [
            p.name
            for p in params
            if p.name != "self"
            and p.name not in names
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names, False
    return names, True


def _renamed(found: Scorer, params: dict[str, Any], where: str) -> Scorer:
    """A ready scorer object; its params may only give it another name."""
    other = sorted(set(params) - {"name"})
    if other:
        raise InvalidArgumentError(
            f'{where} is a scorer object, so its params may only set "name", not '
            f"{', '.join(other)}; to configure it, reference a Scorer class or a factory"
        )
    if "name" in params and params["name"] != found.name:
        found = copy.copy(found)
        found.name = check_name(params["name"], where)
    return found
