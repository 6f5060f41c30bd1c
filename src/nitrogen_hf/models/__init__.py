"""Model families (idm/, policy/, lam/); `import nitrogen_hf` registers them all with the
transformers Auto classes (see auto.py)."""
