"""One folder per tab of the window, each split into panels with one job.
"""
