"""The dialer: pacing, abandon accounting, recycling, the call-floor simulator.

Pure decisions live in `floor`, `stats`, `pacing`, `abandon` and `recycle` (the
clock is always passed in); `engine` drives a `Telephony` (the simulator in
`sim`, the AMI adapter in production); `policies` and `reference` hold the
benchmark's baselines. See docs/dialer.md.
"""
