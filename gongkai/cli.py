"""Entry point of the ``gongkai`` command (the commands live in gongkai/flows/cli.py)."""

from gongkai.flows.cli import app, main

__all__ = ["app", "main"]
