"""Entry script of the windowed ``scenematch-gui`` executable in the frozen build (Windows and
macOS open no console window for it); the same as ``scenematch gui``."""

import sys

from cli.main import gui_main

if __name__ == "__main__":
    sys.exit(gui_main())
