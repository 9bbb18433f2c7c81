"""Service records (服务记录): logging, confirmation, reversal, certificates, the volunteer record."""
