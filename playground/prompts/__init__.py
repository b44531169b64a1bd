"""From template to prompt: the Jinja sandbox, chat templates, prompt templates, libraries and
their file formats, the installed collection, datasets.
"""
