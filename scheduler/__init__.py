"""Time-driven work: windows, retention, and the watch over running servers."""
