"""Scales of the demo experiment: which games, how much play, how long each model trains."""

from __future__ import annotations

from dataclasses import dataclass, field

# Overlay placement per game: a streamer puts the pad where it hides the least of the game.
# In Breakout the default bottom-right corner would sit on the paddle, the player's avatar.
OVERLAY_CORNERS = {"Breakout": "top-left"}


@dataclass(frozen=True)
class DemoScale:
    """One named configuration of `nitrogen-hf demo`."""

    name: str
    policy_games: tuple[str, ...]  # expert play (labeled + walkthroughs) and closed-loop eval
    extra_idm_games: tuple[str, ...]  # sticky play only, to widen the IDM's experience
    unseen_game: str  # never seen by the IDM: its transfer test
    expert_episodes: int  # per policy game; `labeled_fraction` of them keep their labels
    labeled_fraction: float
    sticky_episodes: int  # per IDM game
    unseen_episodes: int
    episode_seconds: float
    idm_preset: str
    idm_minutes: float | None
    idm_steps: int | None  # None: no step limit (the minutes stop it)
    idm_num_frames: int
    policy_preset: str
    policy_minutes: float | None
    policy_steps: int | None
    policy_overrides: dict = field(default_factory=dict)
    eval_episodes: int = 3
    eval_seconds: float = 45.0
    holdout: float = 0.2  # of the IDM's sticky videos, held out for its evaluation
    label_min_confidence: float | None = None  # None: the IDM's calibrated threshold
    label_filters: bool = True  # False: keep every pseudo-label (an untrained IDM's too)
    lam_preset: str = "cpu"  # the latent-action section (--with-lam)
    lam_max_steps: int | None = None  # None: the preset's minutes decide

    @property
    def idm_games(self) -> tuple[str, ...]:
        return self.policy_games + self.extra_idm_games

    @property
    def labeled_episodes(self) -> int:
        return max(1, round(self.expert_episodes * self.labeled_fraction))


# The tiny policy reads 64 px frames: at 32 px a Breakout ball is less than a pixel.
POLICY_64PX = {
    "vision_config": {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 64,
        "patch_size": 8,
    },
    "max_sequence_length": 72,
    "vl_max_positions": 128,
    "action_horizon": 8,
}

SCALES = {
    "tiny": DemoScale(
        name="tiny", policy_games=("Freeway",), extra_idm_games=(), unseen_game="Boxing",
        expert_episodes=4, labeled_fraction=0.25, sticky_episodes=3, unseen_episodes=1, episode_seconds=6.0,
        idm_preset="debug", idm_minutes=None, idm_steps=30, idm_num_frames=4,
        policy_preset="debug", policy_minutes=None, policy_steps=10, eval_episodes=1, eval_seconds=6.0, holdout=0.34,
        label_min_confidence=0.0,
        label_filters=False,  # a 30-step IDM is not calibrated: keep its labels to run every stage
        lam_preset="debug",
        lam_max_steps=20,
    ),
    "small": DemoScale(
        name="small", policy_games=("Breakout", "Freeway"), extra_idm_games=("Boxing", "SpaceInvaders"),
        unseen_game="Asterix", expert_episodes=10, labeled_fraction=0.1, sticky_episodes=5, unseen_episodes=2,
        episode_seconds=45.0, idm_preset="cpu", idm_minutes=7.0, idm_steps=None, idm_num_frames=2,
        policy_preset="cpu", policy_minutes=4.0, policy_steps=None, policy_overrides=POLICY_64PX,
        eval_episodes=3, eval_seconds=45.0,
    ),
    "full": DemoScale(
        name="full", policy_games=("Breakout", "Freeway", "Pong"), extra_idm_games=("Boxing", "SpaceInvaders", "Frostbite"),
        unseen_game="Asterix", expert_episodes=50, labeled_fraction=0.1, sticky_episodes=20, unseen_episodes=5,
        episode_seconds=120.0, idm_preset="gpu", idm_minutes=60.0, idm_steps=50_000, idm_num_frames=16,
        policy_preset="gpu", policy_minutes=60.0, policy_steps=50_000, eval_episodes=10, eval_seconds=120.0,
        lam_preset="gpu",
    ),
}  # fmt: skip
