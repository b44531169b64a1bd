"""Placeholder until the self-test lands."""

from __future__ import annotations


def main() -> int:
    return 1
