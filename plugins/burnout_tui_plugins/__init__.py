"""burnout-tui's built-in analysis reports.

They are ordinary plugins: registered through the `burnout_tui.plugins` entry points in the
project's pyproject.toml and written against `burnout_tui.plugin` alone, exactly as a
third-party package would be.
"""
