"""The province's view: departments and their groups, every department's progress, the published ranking."""
