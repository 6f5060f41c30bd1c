"""Recording real games: ALE envs, scripted and random players, the gamepad overlay, the recorder."""
