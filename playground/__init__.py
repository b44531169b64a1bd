"""Prompt Playground core: models, generation, templates, scoring and storage, without Qt."""

__version__ = "0.1.0"
