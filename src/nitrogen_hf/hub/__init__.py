"""The Hugging Face Hub surface: cards, publishing, and the Space's backend.

cards.py          model cards (README.md) of saved model folders: shared helpers, entry points
idm_card.py       the IDM card: architecture, labeled dims, training, calibration, evaluation
policy_card.py    the policy card (also LoRA adapters): architecture, data mixture, closed loop
dataset_card.py   dataset cards of build-dataset and label outputs (keeps the `configs:` YAML)
push.py           `nitrogen-hf push`: create the repo and upload a folder (or list it: dry run)
space_backend.py  what the Gradio Space runs: input checks, labeling, plots, downloads
timeline.py       the Space's timeline plot of labeled buttons, sticks and confidence
demo_assets.py    the Space's bundled example video and tiny demo IDM and policy
"""
