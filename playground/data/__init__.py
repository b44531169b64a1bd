"""The data the app ships inside its package, found with importlib.resources
(:func:`playground.paths.shipped`): ``playground.data.templates``, the built-in templates, example
sets and datasets, and ``playground.data.models``, the model catalog. Their files stay in the
top-level ``templates/`` and ``models/`` folders of the source tree; pyproject.toml maps those
folders here, in a wheel and in an editable install alike."""
