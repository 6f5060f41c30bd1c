import itertools

import pytest
import torch

from nitrogen_hf.data.mixture import MixtureDataset, MixtureSource, parse_source_spec


class Numbers(torch.utils.data.IterableDataset):
    def __init__(self, values):
        self.values, self.epochs = list(values), []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)

    def __iter__(self):
        return iter({"x": v} for v in self.values)


def test_sources_are_drawn_in_proportion_to_their_weights():
    truth, pseudo = Numbers(range(5)), Numbers(range(100, 103))
    mixture = MixtureDataset(
        [MixtureSource("truth", truth, 3.0), MixtureSource("pseudo", pseudo, 1.0)], seed=0
    )
    draws = list(itertools.islice(mixture, 4000))
    share = sum(d["source"] == "truth" for d in draws) / len(draws)
    assert abs(share - 0.75) < 0.03
    # Sources cycle through epochs instead of stopping the mixture.
    assert len(pseudo.epochs) > 100 and pseudo.epochs[:3] == [0, 1, 2]
    assert {d["x"] for d in draws if d["source"] == "pseudo"} == {100, 101, 102}


def test_mixture_is_seeded():
    def first(seed):
        sources = [MixtureSource("a", Numbers([1]), 1.0), MixtureSource("b", Numbers([2]), 1.0)]
        return [d["source"] for d in itertools.islice(MixtureDataset(sources, seed=seed), 50)]

    assert first(0) == first(0) != first(1)


def test_source_specs():
    assert parse_source_spec("truth=data/gt") == ("truth", "data/gt", 1.0)
    assert parse_source_spec("pseudo=data/pl:0.25") == ("pseudo", "data/pl", 0.25)
    assert parse_source_spec("hub=hf://user/ds") == ("hub", "hf://user/ds", 1.0)
    for bad in ("data/gt", "x=data:0", "=data"):
        with pytest.raises(ValueError, match="data source"):
            parse_source_spec(bad)


def test_bad_mixtures_fail_clearly():
    with pytest.raises(ValueError, match="at least one"):
        MixtureDataset([])
    with pytest.raises(ValueError, match="unique"):
        MixtureDataset([MixtureSource("a", Numbers([1])), MixtureSource("a", Numbers([2]))])
    with pytest.raises(RuntimeError, match="'empty' yielded no samples"):
        next(iter(MixtureDataset([MixtureSource("empty", Numbers([]))])))
