from nitrogen_hf.evaluation.identifiability import (
    IdentifiabilityConfig,
    button_identifiability,
    identifiable_buttons,
)


def test_counterfactual_shares_follow_the_game_mechanics():
    config = IdentifiabilityConfig(states=20, seed=1)
    freeway = button_identifiability("ALE/Freeway-v5", config)
    assert set(freeway) == {"dpad_up", "dpad_down"}  # Freeway has no fire button
    assert freeway["dpad_up"] > 0.3
    pong = button_identifiability("ALE/Pong-v5", config)
    # Moving the paddle shows; FIRE only serves, so it rarely changes anything.
    assert pong["dpad_right"] > pong["south"] and pong["south"] < 0.2
    assert button_identifiability("ALE/Pong-v5", config) == pong  # seeded: reproducible


def test_identifiable_buttons_threshold():
    assert identifiable_buttons({"a": 0.5, "b": 0.49}) == ["a"]
    assert identifiable_buttons({"a": 0.5, "b": 0.49}, threshold=0.4) == ["a", "b"]
