"""Collections workbench."""
