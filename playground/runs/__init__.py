"""Running comparisons: specs, the runner that plans, generates, scores and saves, replay, and
reading stored comparisons back.
"""
