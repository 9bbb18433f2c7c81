"""The published care-service list (关爱服务清单): categories and items, read by cms and pairing."""
