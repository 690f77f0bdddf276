"""Alert notifications: webhook (Slack / Teams / JSON, signed) and SMTP e-mail channels,
routing by severity, grouping per machine group, silences, and the delivery log."""
