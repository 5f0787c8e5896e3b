"""The ``watchlist`` command line: thin Typer commands that parse, delegate and render."""
