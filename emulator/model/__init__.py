"""Resources, their rules and their wire form."""
