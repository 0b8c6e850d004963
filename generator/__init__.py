"""timeline: a static site generator for event timelines."""

__version__ = "0.1.0"
