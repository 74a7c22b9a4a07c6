"""The CCHC plan: its model, reading it from the files people have, units, deadlines, completion statistics."""
