"""Tests of the daemon, its queue, hooks and stream-push."""
