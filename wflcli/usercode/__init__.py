"""A user's own Python code run by wflcli (a ``python:`` calculator, a ``wfl map``
function): finding it by ``module:name`` or ``file.py:name``, and fingerprinting it so the
cache sees every edit, every file it is given and every dependency upgrade."""
