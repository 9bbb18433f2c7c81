"""Regular visits and risk checks (定期巡访), alerts and their escalation (应急处置)."""
