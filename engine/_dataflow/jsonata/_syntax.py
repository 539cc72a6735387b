"""Recognising and compiling the ``{% ... %}`` JSONata strings of ASL.

AWS treats a string as a JSONata expression only when the WHOLE string is wrapped:
it must start with ``{%`` and end with ``%}``, with nothing (not even whitespace) outside
the delimiters. ``" {% states.input %} "`` is a plain string literal (cases
``arguments.test_arguments.test_base_cases__BASE_LAMBDA_LITERALS`` and
``outputdecl.test_output.test_base_cases__BASE_LITERALS``). Whitespace inside the
delimiters is insignificant: error messages quote the trimmed body
(``'$doesNotExist'`` for ``"{% $doesNotExist %}"``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from engine._dataflow.scope import Json

_OPEN = "{%"
_CLOSE = "%}"


def is_expression(value: Json) -> bool:
    """Whether ``value`` is a JSONata expression string, ``{% ... %}``, as AWS decides it.

    Args:
        value: any JSON value from a definition.

    Returns:
        True for a string that starts with ``{%`` and ends with ``%}`` (no surrounding
        whitespace allowed); False for every other value.
    """
    return (
        isinstance(value, str)
        and len(value) >= len(_OPEN) + len(_CLOSE)
        and value.startswith(_OPEN)
        and value.endswith(_CLOSE)
    )


def expression_body(text: str) -> str:
    """The JSONata source inside ``{% ... %}``, trimmed as AWS quotes it in messages.

    Args:
        text: a string for which `is_expression` is true.

    Returns:
        The text between the delimiters without surrounding whitespace.

    Raises:
        ValueError: ``text`` is not a ``{% ... %}`` string.
    """
    if not is_expression(text):
        raise ValueError(
            f"expected a JSONata expression string of the form '{{% ... %}}', got {text!r}"
        )
    return text[len(_OPEN) : -len(_CLOSE)].strip()


def check_syntax(text: str) -> str | None:
    """Check at definition time that a ``{% ... %}`` string holds valid JSONata.

    Args:
        text: the whole field value, delimiters included.

    Returns:
        None when the expression compiles; otherwise a message naming the expression,
        the JSONata error code and the character position inside the expression, e.g.
        ``"The JSONata expression '10 + * 2' is invalid: S0201: Syntax error: 2
        (at position 8)"``.
    """
    if not is_expression(text):
        return (
            f"The value {text!r} is not a JSONata expression: "
            "it must start with '{%' and end with '%}'"
        )
    from jsonata import JException  # the library: only for a definition that uses JSONata

    from engine._dataflow.jsonata._messages import describe_error

    body = expression_body(text)
    try:
        compile_expression(body)
    except JException as error:
        where = f" (at position {error.location})" if error.location >= 0 else ""
        return f"The JSONata expression '{body}' is invalid: {describe_error(error)}{where}"
    except RecursionError:  # the library's parser recurses once per nesting level
        return f"The JSONata expression '{body}' is invalid: it is nested too deeply to parse"
    except Exception as error:  # the port's parser fails on some input with a bare
        # KeyError (the fuzz suite: '!'); whatever it raises, the text did not parse
        return f"The JSONata expression '{body}' is invalid: it cannot be parsed ({error!r})"
    return None


@lru_cache(maxsize=2048)
def compile_expression(body: str) -> Any:
    """Parse ``body`` once; the compiled expression is reused for every evaluation.

    Args:
        body: JSONata source (without the ``{% %}`` delimiters).

    Returns:
        The library's compiled ``Jsonata`` object, returning JSONata ``null`` as a
        marker distinct from ``undefined`` (Python None).

    Raises:
        JException: the source is not valid JSONata.
    """
    from engine._dataflow.jsonata._bounds import BoundedJsonata

    compiled = BoundedJsonata(body)
    # Keep null and undefined apart: AWS fails on undefined but accepts null.
    compiled.set_output_convert_nulls(False)
    return compiled
