"""One module per console command, each exposing ``run(args) -> exit status``."""
