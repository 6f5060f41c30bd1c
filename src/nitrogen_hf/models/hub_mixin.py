"""What a saved model folder needs on the Hub: code that loads without nitrogen_hf, loading
errors that name the file, and a seam for the model card `push_to_hub` uploads.

Remote code: `save_pretrained` copies the source files of the model's config and model classes,
and every nitrogen_hf module they import, flat into the folder, with those imports rewritten to
sibling imports (`from .actions import ...`), and writes `auto_map` into config.json. A Hub user
without nitrogen_hf then loads the folder with
`AutoModel.from_pretrained(repo, trust_remote_code=True)`; with nitrogen_hf installed, the
registered classes are used and the copies are ignored. The copies stay loadable copies: a
model loaded from them saves them again.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CardWriter = Callable[[Path, str], object]  # (saved folder, repo id) -> writes README.md


def _module_file(module_name: str) -> Path:
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    return Path(module.__file__)


def _imported_modules(tree: ast.Module, package: str, root: str) -> list[ast.ImportFrom]:
    """The `from X import ...` statements (anywhere in the file) whose X lies in `root`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == root for alias in node.names
        ):
            raise ValueError(
                f"`import {node.names[0].name}`: use `from ... import` for remote code"
            )
        if isinstance(node, ast.ImportFrom):
            target = _resolve(node, package)
            if target.split(".")[0] == root and target != "__future__":
                found.append(node)
    return found


def _resolve(node: ast.ImportFrom, package: str) -> str:
    name = "." * node.level + (node.module or "")
    return importlib.util.resolve_name(name, package) if node.level else name


def _rewrite(source: str, nodes: list[ast.ImportFrom], package: str) -> tuple[str, list[str]]:
    """`source` with each import of `nodes` made a sibling import; the modules they name."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    targets = []
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        target = _resolve(node, package)
        spec = importlib.util.find_spec(target)
        if spec is None or spec.submodule_search_locations is not None:
            raise ValueError(
                f"{package}: `{ast.unparse(node)}` imports a package; import its module instead"
            )
        targets.append(target)
        flat = ast.ImportFrom(module=target.rsplit(".", 1)[-1], names=node.names, level=1)
        start = offsets[node.lineno - 1] + node.col_offset
        stop = offsets[node.end_lineno - 1] + node.end_col_offset
        source = source[:start] + ast.unparse(flat) + source[stop:]
    return source, targets


def remote_code_sources(*classes: type) -> dict[str, str]:
    """{file name: source} of the modules defining `classes` and all the package modules they
    import, rewritten to import each other as flat siblings."""
    root = classes[0].__module__.split(".")[0]
    todo = [cls.__module__ for cls in classes]
    sources: dict[str, str] = {}
    owners: dict[str, str] = {}
    while todo:
        module_name = todo.pop()
        file_name = module_name.rsplit(".", 1)[-1] + ".py"
        if owners.get(file_name) == module_name:
            continue
        package = module_name.rsplit(".", 1)[0]
        source = _module_file(module_name).read_text()
        flat, targets = _rewrite(
            source, _imported_modules(ast.parse(source), package, root), package
        )
        if file_name in owners:
            # transformers loads remote files from one folder per file hash: the same file twice
            if sources[file_name] == flat:
                continue
            raise ValueError(
                f"remote code: {owners[file_name]} and {module_name} both flatten to {file_name}"
            )
        owners[file_name], sources[file_name] = module_name, flat
        todo += targets
    return sources


def auto_map_of(config_class: type, model_class: type) -> dict[str, str]:
    """config.json's `auto_map`: where `trust_remote_code` finds each class (module.Class)."""
    return {
        "AutoConfig": f"{config_class.__module__.rsplit('.', 1)[-1]}.{config_class.__name__}",
        "AutoModel": f"{model_class.__module__.rsplit('.', 1)[-1]}.{model_class.__name__}",
    }


WEIGHTS_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def check_saved_folder(path, model_type: str) -> None:
    """A local folder must hold a config.json of `model_type` and weights: transformers would
    otherwise build a default config for a folder without one and load the weights into it."""
    import json

    folder = Path(path)
    if not folder.exists():
        return  # a Hub id (or a typo, which the Hub lookup reports)
    if not folder.is_dir():
        raise ValueError(f"{folder}: a file; give the folder that save_pretrained wrote")
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(
            f"{folder}: no config.json; not a saved model folder (the --out of a train command)"
        )
    try:
        found = json.loads(config_file.read_text()).get("model_type")
    except (json.JSONDecodeError, AttributeError) as error:
        raise ValueError(f"{config_file}: not a valid config ({error})") from error
    if found != model_type:
        raise ValueError(f"{config_file}: model_type {found!r}, expected {model_type!r}")
    if not any((folder / name).is_file() for name in WEIGHTS_FILES):
        raise FileNotFoundError(f"{folder}: no model.safetensors; the folder holds no weights")


class NitroGenHubMixin:
    """Checked `from_pretrained`; remote code in `save_pretrained`; `push_to_hub` with
    nitrogen_hf's card when one is set.

    `model_card_writer` is set by whoever can render cards (the `nitrogen_hf` package does it
    at import); models themselves never write a card.
    """

    model_card_writer: CardWriter | None = None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """`PreTrainedModel.from_pretrained`, refusing folders that are not this model's and
        naming the weights file when it cannot be read (truncated, corrupt)."""
        from safetensors import SafetensorError

        check_saved_folder(pretrained_model_name_or_path, cls.config_class.model_type)
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        except SafetensorError as error:
            raise ValueError(
                f"{Path(pretrained_model_name_or_path) / 'model.safetensors'}: unreadable "
                f"({error}); the file is truncated or corrupt: copy or train it again"
            ) from error

    def save_pretrained(self, save_directory, *args, **kwargs):
        config_class, model_class = type(self.config), type(self)
        self.config.auto_map = auto_map_of(config_class, model_class)
        result = super().save_pretrained(save_directory, *args, **kwargs)
        if kwargs.get("is_main_process", True):
            for name, source in remote_code_sources(config_class, model_class).items():
                (Path(save_directory) / name).write_text(source)
        return result

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str | None = None,
        private: bool | None = None,
        token: bool | str | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        max_shard_size: int | str | None = "50GB",
        tags: list[str] | None = None,
        api=None,
    ):
        """Save to a temporary folder with its card, then upload the folder (as transformers
        does, but the card is nitrogen_hf's when `model_card_writer` renders one for this
        model; otherwise, e.g. in the remote-code copy, transformers' generic card).
        `api` is an `HfApi` (default: a new one with `token`); tests pass a stand-in."""
        from huggingface_hub import HfApi, ModelCard

        api = api or HfApi(token=token if isinstance(token, str) else None)
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, max_shard_size=max_shard_size)
            readme = Path(folder) / "README.md"
            writer = type(self).model_card_writer
            if writer is None or writer(Path(folder), repo_id) is None:
                from transformers.utils.hub import create_and_tag_model_card

                create_and_tag_model_card(repo_id, tags, token=token).save(readme)
            elif tags:
                card = ModelCard.load(readme)
                card.data.tags = sorted({*(card.data.tags or []), *tags})
                card.save(readme)
            return api.upload_folder(
                repo_id=repo_id,
                folder_path=folder,
                commit_message=commit_message or f"Upload {type(self).__name__}",
                revision=revision,
                create_pr=create_pr,
            )
