"""RQ job functions and what only they need: probing, transcoding, progress."""
