"""JSONata for ``"QueryLanguage": "JSONata"`` states, as AWS Step Functions runs it.

Built on the ``jsonata-python`` library, with AWS's additions and deviations:

* a field is an expression only when the whole string is ``{% ... %}``;
* ``$states`` holds ``input``, ``context`` and, where AWS offers them, ``result`` and
  ``errorOutput``; workflow variables are ``$name``;
* AWS's functions ``$partition``, ``$range``, ``$hash``, ``$random([seed])``, ``$uuid``
  and ``$parse``; ``$eval`` is unavailable;
* ``$now``/``$millis`` read ``Scope.now`` and ``$random``/``$uuid``/``$shuffle`` draw
  from ``Scope.rng``, so replays are identical;
* results are plain JSON (integral numbers as ints); undefined results, functions and
  evaluation errors become ``States.QueryEvaluationError`` with AWS's wording.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from engine._dataflow.jsonata._syntax import check_syntax, expression_body, is_expression

if TYPE_CHECKING:
    from engine._dataflow.jsonata._evaluate import (
        MAX_EVALUATION_STEPS,
        UNSET,
        JsonType,
        evaluate_expression,
        evaluate_template,
    )
    from engine._dataflow.jsonata._functions import MissingScopeValueError
else:

    def __getattr__(name: str) -> object:
        """An evaluator name, imported with the jsonata library on first use (PEP 562).

        A definition without JSONata only asks `is_expression`: it never loads the library.
        """
        if name not in _EVALUATOR:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(_EVALUATOR[name], __name__), name)
        globals()[name] = value
        return value


_EVALUATOR = {
    "MAX_EVALUATION_STEPS": "._evaluate",
    "UNSET": "._evaluate",
    "JsonType": "._evaluate",
    "evaluate_expression": "._evaluate",
    "evaluate_template": "._evaluate",
    "MissingScopeValueError": "._functions",
}
"""The names whose modules import the jsonata library, and those modules."""

__all__ = [
    "MAX_EVALUATION_STEPS",
    "UNSET",
    "JsonType",
    "MissingScopeValueError",
    "check_syntax",
    "evaluate_expression",
    "evaluate_template",
    "expression_body",
    "is_expression",
]
