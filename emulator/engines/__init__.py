"""What differs by engine: the server binary we run, its configuration and its password hashes."""
