"""nitrogen_hf: NitroGen data, inverse dynamics pseudo-labeling and vision-action policies.

Importing the package registers every model with the transformers Auto classes (as soon as
transformers loads, so the command line stays fast): `AutoModel.from_pretrained(folder)`
then loads an IDM, a policy, a latent action model or a world model. It also gives the
models' `push_to_hub` the model card writer of `hub/cards.py`.
"""

from importlib.metadata import PackageNotFoundError, version

from nitrogen_hf.hub.cards import write_model_card
from nitrogen_hf.models.auto import register_when_transformers_loads
from nitrogen_hf.models.hub_mixin import NitroGenHubMixin

try:
    __version__ = version("nitrogen-hf")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

register_when_transformers_loads()
# The composition root wires the layers: models never import hub/, yet `push_to_hub` of an
# IDM or policy uploads nitrogen_hf's card.
NitroGenHubMixin.model_card_writer = staticmethod(write_model_card)
