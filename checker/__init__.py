"""golive: a go-live readiness checker for integrations with side-effecting HTTP APIs."""

__version__ = "0.1.0"
