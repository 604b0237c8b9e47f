"""Query execution around the engine: refresh modes, the Redis result cache with staleness rules,
single flight, async query status (`query_async:{team}:{id}`) and cancellation.

`app/query/` computes; this package decides *whether* to compute, where (here or on the worker
pool) and what to tell the client about it.
"""
