"""`python -m housevoice` runs the command line."""

from housevoice.cli import main

if __name__ == "__main__":
    main()
