"""The volunteer screen: pairing with a station, the call pop, the script and survey,
recording outcomes, preview mode and door-to-door entry."""
