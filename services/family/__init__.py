"""The family portal (家庭尽责): children working away sign in by SMS code, see their elder, report their own
contact, propose changes of whereabouts and receive the monthly summary."""
