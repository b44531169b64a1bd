"""Widgets and dialogs shared by several views.
"""
