"""Imported by every benchmark script before trio: this folder holds `queue.py` (the queue
benchmark), and Python puts a script's folder first on `sys.path`, where that file would shadow
the standard library's `queue`, which trio imports. Take this folder off the path."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
