"""Follow-up by SMS (a GSM modem on a serial port) and by e-mail (SMTP).

Pure protocol code: `gsm` (alphabet, septets, splitting), `pdu` (SMS PDUs),
`at` (AT response parser), `optout` (STOP words), `policy` (backoff, rate limit),
`tokens` (signed unsubscribe links). Adapters: `modem` (pyserial), `mailer`
(aiosmtplib). Services: `repo` (the send queue), `service` (workers, inbox).
"""
