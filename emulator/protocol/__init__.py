"""The wire: pure functions from form fields to request dicts and from result dicts to XML."""
