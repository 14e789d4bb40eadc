"""RDS Emulator: an Amazon RDS-compatible control plane with real MySQL-family servers."""
