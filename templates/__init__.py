"""The built-in templates, example sets and datasets (see README.md): shipped inside the
package as ``playground.data.templates`` (pyproject.toml maps this folder there), where
:mod:`playground.prompts.templates` finds them with importlib.resources."""
