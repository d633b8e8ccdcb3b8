"""`python -m housevoice` runs the command line."""

from housevoice.cli import main

main()
