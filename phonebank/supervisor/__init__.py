"""The supervisor's live wallboard and coaching (listen, whisper, barge)."""
