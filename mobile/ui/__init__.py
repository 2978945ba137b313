"""Flet screens: each renders `mobile.state.app.AppState` and forwards taps to its actions."""
