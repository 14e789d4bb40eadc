"""Schema changes as Alembic migrations, run at start-up (see emulator/store.py: Store.upgrade)."""
