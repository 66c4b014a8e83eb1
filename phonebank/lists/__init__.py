"""Voter and contact lists: phone normalisation, calling windows, import, export, targeting."""
