"""The dynamic ledger of left-behind elders (动态管理台账): elders, families, agreements, imports."""
