"""Live state shared in one process: the dialer runner, screens and wallboard."""
