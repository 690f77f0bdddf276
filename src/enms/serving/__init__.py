"""Serving predictions: the predict endpoint, routing between champion and A/B arms, and the
cache of loaded artifacts. A prediction request never trains."""
