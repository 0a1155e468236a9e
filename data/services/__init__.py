"""The services the callbacks and the CLI call: one function per page action or command."""
