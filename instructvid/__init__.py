"""instructvid: learning how people do tasks from narrated instructional videos."""

__version__ = "0.1.0"
