"""The phone system's Python side: prompts, the opt-out writer, reconciling live calls."""
