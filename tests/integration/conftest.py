"""The tier that needs the shared development data (BURNOUT_TUI_DATA).

Its tests take `shared_data` or `reference_dir` from the root conftest, which skip with a
reason where the data is not available; nothing else is shared only within this tier.
"""
