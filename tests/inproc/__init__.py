"""In-process handler tests: the production Dispatcher fed through the real inbox, no bot process."""
