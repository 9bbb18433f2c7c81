"""A giver across the services: their own page and the staff's list of givers, with hours and pairings."""
