"""Clients of the RDS Query API that need no botocore: the plain Query client and the legacy rds-* tools."""
