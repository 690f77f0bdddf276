"""Access control: users, API keys and roles; who a request is (desk mode, key, session);
the role each route needs; rate limits; and the audit row of every state-changing request.

Roles are ordered: ``viewer`` reads everything, ``operator`` also runs the plant's model work
(imports, training, alerts, A/B tests), ``admin`` also changes what is in force (promote,
rollback, delete) and who may do what (keys, users).
"""
