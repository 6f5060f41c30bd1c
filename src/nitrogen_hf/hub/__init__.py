"""The Hugging Face Hub surface: model and dataset cards, and publishing.

card_common.py    what every card is built from: templates, marker, a folder's JSON reports
cards.py          model cards (README.md) of saved model folders: the entry points
idm_card.py       the IDM card: architecture, labeled dims, training, calibration, evaluation
policy_card.py    the policy card (also LoRA adapters): architecture, data mixture, closed loop
dataset_card.py   dataset cards of build-dataset and label outputs (keeps the `configs:` YAML)
push.py           `nitrogen-hf push`: create the repo and upload a folder (or list it: dry run)
"""
