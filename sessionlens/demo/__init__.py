"""Realistic, deterministic demo data: ``sessionlens demo``. See ``generate.generate``."""

from sessionlens.demo.generate import DemoSummary, generate

__all__ = ["DemoSummary", "generate"]
