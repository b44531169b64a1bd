"""Background work for the window: tasks on Qt's thread pool, jobs that call the core, the shared
model hub.
"""
