"""Government purchasing of services (政府购买服务): contracts and monthly settlements."""
