"""The guest template: the recipe, how an image is built from Debian's packages, and where images are kept."""
