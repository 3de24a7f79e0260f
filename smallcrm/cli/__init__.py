"""The command-line front end: a thin Typer layer over the service modules."""
