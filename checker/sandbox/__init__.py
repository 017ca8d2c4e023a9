"""The embedded sandbox: a faithful local stand-in for each provider's sandbox API (docs/design.md §6).

It is a separate room: the checker reaches it only over HTTP, exactly as it would a real
provider, so everything golive proves against it holds against the real thing too.
"""
