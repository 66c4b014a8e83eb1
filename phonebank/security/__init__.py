"""Security helpers that do not depend on the web layer."""
