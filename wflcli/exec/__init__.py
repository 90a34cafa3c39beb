"""The executor core: one way to run a verb's per-config work, serially, on local worker
processes, or (later) as batch jobs; the verb never knows which."""
