"""The read side: views of verified records for the CLI and reports. Never writes events."""
