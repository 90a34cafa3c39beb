"""wflcli: composable Unix-style verbs for atomistic simulation and MLIP workflows."""

__version__ = "0.1.0"
