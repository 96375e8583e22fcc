"""The Textual front end: a thin App, screens that own their UI, workers for all blocking work."""
