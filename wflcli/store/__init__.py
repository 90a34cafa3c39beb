"""The store under ~/.wflcli (or $WFLCLI_HOME): a SQLite file for jobs and the per-config
result cache, plus plain files."""
