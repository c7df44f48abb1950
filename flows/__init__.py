"""Orchestration (gongkai.flows): Prefect flows, the CLI, settings, the warehouse, loader and exporter."""
