"""The domain: videos and their one state machine, ingest, the conversion plan, notifications,
the content check, accounts. Called by the web, the commands and the jobs alike; it imports none
of them, and reaches Redis and storage only through `app.platform`."""
