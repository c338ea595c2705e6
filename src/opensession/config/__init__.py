"""Where opensession keeps its files, and its config file."""
