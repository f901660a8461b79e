"""Several hosts: per-host keys, the authorized dir, federation to a central broker."""
