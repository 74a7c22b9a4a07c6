"""A department's year: rolling scores up the criteria tree, the appraisal cycle and its rules, the snapshot every page and export reads, and what awaits each person."""
