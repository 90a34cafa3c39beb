"""The environment variables that decide how many threads numerical libraries start
(OpenMP, OpenBLAS, MKL): set for pool workers and for the codes wflcli runs."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
