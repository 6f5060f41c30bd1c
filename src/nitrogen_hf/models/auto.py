"""Registration of every nitrogen_hf model with the transformers Auto classes.

`import nitrogen_hf` must make `AutoConfig` / `AutoModel.from_pretrained(folder)` work, yet
`nitrogen-hf --help` must not pay for importing torch and transformers (seconds). So the
package only installs an import hook: the moment transformers' auto modules finish loading
(in the same process, before or after `import nitrogen_hf`), the configs and models below
are registered. Importing a model subpackage (`nitrogen_hf.models.idm`) registers it too.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

# (configuration module, config class, modeling module, model class) of every model.
AUTO_MODELS = (
    (
        "nitrogen_hf.models.idm.configuration_idm",
        "NitroGenIDMConfig",
        "nitrogen_hf.models.idm.modeling_idm",
        "NitroGenIDM",
    ),
    (
        "nitrogen_hf.models.policy.configuration_policy",
        "NitroGenPolicyConfig",
        "nitrogen_hf.models.policy.modeling_policy",
        "NitroGenPolicy",
    ),
    (
        "nitrogen_hf.models.lam.configuration_lam",
        "LatentActionConfig",
        "nitrogen_hf.models.lam.modeling_lam",
        "LatentActionModel",
    ),
    (
        "nitrogen_hf.models.lam.configuration_world_model",
        "WorldModelConfig",
        "nitrogen_hf.models.lam.modeling_world_model",
        "WorldModel",
    ),
)
CONFIG_AUTO = "transformers.models.auto.configuration_auto"
MODEL_AUTO = "transformers.models.auto.modeling_auto"


def auto_classes(model_type: str) -> tuple[type, type]:
    """(config class, model class) of one of our model types, e.g. 'nitrogen_idm'."""
    for config_module, config_name, model_module, model_name in AUTO_MODELS:
        config = getattr(importlib.import_module(config_module), config_name)
        if config.model_type == model_type:
            return config, getattr(importlib.import_module(model_module), model_name)
    raise ValueError(f"model_type {model_type!r} is not a nitrogen_hf model")


def register_configs() -> None:
    """`AutoConfig` knows every nitrogen_hf model type."""
    from transformers import AutoConfig

    for config_module, config_name, _, _ in AUTO_MODELS:
        config = getattr(importlib.import_module(config_module), config_name)
        AutoConfig.register(config.model_type, config, exist_ok=True)


def register_models() -> None:
    """`AutoConfig` and `AutoModel` know every nitrogen_hf model."""
    from transformers import AutoModel

    register_configs()
    for config_module, config_name, model_module, model_name in AUTO_MODELS:
        config = getattr(importlib.import_module(config_module), config_name)
        model = getattr(importlib.import_module(model_module), model_name)
        AutoModel.register(config, model, exist_ok=True)


def _transformers_busy(except_module: str) -> bool:
    """True while another transformers module is half-imported (registering would re-enter it)."""
    return any(
        name.startswith("transformers") and name != except_module and _initializing(module)
        for name, module in list(sys.modules.items())
    )


def _initializing(module) -> bool:
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


class _AutoRegistrationHook(importlib.abc.MetaPathFinder):
    """Runs the registrations right after transformers' auto modules execute.

    When such a module loads in the middle of another transformers module's import, the
    registration waits for the next import of anything, when that one has finished.
    """

    def __init__(self) -> None:
        self.pending: list = []  # registrations that had to wait

    def find_spec(self, fullname, path=None, target=None):
        self._run_pending()
        action = {CONFIG_AUTO: register_configs, MODEL_AUTO: register_models}.get(fullname)
        if action is None:
            return None
        spec = self._spec_from_others(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            if _transformers_busy(fullname):
                self.pending.append(action)
            else:
                action()

        spec.loader.exec_module = exec_module
        return spec

    def _spec_from_others(self, fullname, path, target):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def _run_pending(self) -> None:
        if self.pending and not _transformers_busy(""):
            actions, self.pending = self.pending, []
            for action in actions:
                action()


def register_when_transformers_loads() -> None:
    """Register now if transformers' auto modules are loaded, else as soon as they load."""
    if MODEL_AUTO in sys.modules and not _transformers_busy(MODEL_AUTO):
        register_models()
    elif CONFIG_AUTO in sys.modules and not _transformers_busy(CONFIG_AUTO):
        register_configs()
    if not any(isinstance(f, _AutoRegistrationHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _AutoRegistrationHook())
