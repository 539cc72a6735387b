"""``python -m engine._cli``: the ``stepline`` command."""

from engine._cli import main

main()
