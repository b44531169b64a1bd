"""The model catalog (catalog.json, see README.md): shipped inside the package as
``playground.data.models`` (pyproject.toml maps this folder there), where
:mod:`playground.engine.models` finds it with importlib.resources."""
