"""The SQLite gradebook: one transaction per student, resumable runs."""
