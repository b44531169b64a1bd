"""Judging outputs: overlap and task metrics, statistics, human preferences, reports.
"""
