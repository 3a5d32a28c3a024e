"""Running the service: backups and restores, retention (gallring), files kept private."""
