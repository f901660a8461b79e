"""Every reader survives every input: bad lines, fields, frames and config files."""
