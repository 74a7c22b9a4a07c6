"""Storage: the database and its migrations, every read and write (versioned and audited), evidence files, backup and restore."""
