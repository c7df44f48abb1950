"""Orchestration: settings, CLI, and (later) Prefect flows, loader and exporter."""
