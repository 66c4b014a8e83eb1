"""Phonebank: a self-hosted VoIP phone bank for political campaigns, on Asterisk."""

__version__ = "0.1.0"
