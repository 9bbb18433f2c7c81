"""Pairing givers with elders (结对帮扶): needs, proposals, matching runs, the pairing lifecycle."""
