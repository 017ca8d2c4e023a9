"""The bodies of golive's commands. `checker/cli.py` declares each command (its arguments, options, help text) and
calls one function here; each function takes typed arguments, returns the exit code and raises click's UsageError or
golive's own errors, which `cli.main` maps to exit codes. Heavy modules load inside the functions, so that importing
a command costs nothing until it runs."""
