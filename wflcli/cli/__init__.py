"""The command line: click commands that parse, check and hand over to verbs and the core."""
