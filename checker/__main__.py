"""`python -m checker` runs the golive command line."""

from checker.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
