"""The analog card: station inventory, DAHDI configuration, and checking what is plugged in."""
