"""The main job: the VPT-style experiment on real games (`nitrogen-hf demo`)."""
