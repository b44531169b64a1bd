"""The Qt desktop app: a face over the ``playground`` core."""
