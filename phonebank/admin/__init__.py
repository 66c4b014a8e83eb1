"""The admin and supervisor screens: campaigns, users and codes, stations, lists, reports."""
