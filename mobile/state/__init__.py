"""View state and actions, without Flet (testable with pytest)."""
