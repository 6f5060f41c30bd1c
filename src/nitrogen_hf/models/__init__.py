"""Model families; import a subpackage (e.g. `nitrogen_hf.models.policy`) to register its Auto classes."""
