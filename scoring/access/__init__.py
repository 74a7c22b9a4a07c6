"""Who may do what: accounts, roles and permissions, sign-in sessions."""
