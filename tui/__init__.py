"""The interactive practice session: scenario browser, session screen, summary (Textual)."""
