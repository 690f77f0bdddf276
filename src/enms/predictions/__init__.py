"""The prediction log: every scored point of every champion and active challenger.

The backbone of monitoring (DESIGN: "The prediction log is the backbone"). A periodic task
scores new readings with each champion and each challenger (shadow scoring) in bulk, outside
request transactions, and forecasters log the forecast issued at each daily origin with its
lead. Evaluation windows, metric trends, drift checks and A/B statistics read this log; none
of them re-runs a model inside a request.
"""
