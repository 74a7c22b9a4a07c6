"""The province's criteria sets as data: the model, the scoring rules, reading the annexes (YAML/JSON, Excel, Word, PDF), the draft the Office corrects, and the mapping between two years' sets."""
