"""The executor core: one way to run a verb's per-config work, serially, on local worker
processes, or as batch jobs on a cluster (``batch/``); the verb never knows which."""
