"""``python -m supportgym.cli``: the ``supportgym`` command without its console script."""

from supportgym.cli.app import app

app()
