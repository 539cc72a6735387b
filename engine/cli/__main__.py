"""``python -m engine.cli``: the ``stepline`` command."""

from engine.cli import main

main()
