import torch

from nitrogen_hf.models.lam.quantizer import VectorQuantizer


def clusters(n: int, centres: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(n, D) points around the given (K, D) centres, in equal shares."""
    g = torch.Generator().manual_seed(seed)
    picks = torch.arange(n) % len(centres)
    return centres[picks] + 0.01 * torch.randn(n, centres.shape[1], generator=g)


def test_straight_through_passes_the_gradient_unchanged():
    vq = VectorQuantizer(num_codes=4, dim=3)
    z = torch.randn(5, 3, requires_grad=True)
    weights = torch.randn(5, 3)
    out = vq(z)
    (out.quantized * weights).sum().backward()
    assert torch.allclose(z.grad, weights)
    # Forward values are the chosen code vectors; the codebook itself takes no gradient.
    assert torch.allclose(out.quantized, vq.codebook[out.codes])
    assert not any(p.requires_grad for p in vq.parameters())
    assert out.commitment_loss.requires_grad


def test_codes_are_the_nearest_vectors():
    vq = VectorQuantizer(num_codes=3, dim=2).eval()
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]))
    codes = vq(torch.tensor([[4.0, 1.0], [0.5, 0.2], [1.0, 4.0]])).codes
    assert codes.tolist() == [1, 0, 2]


def test_dead_codes_restart_until_every_cluster_has_its_own_code():
    torch.manual_seed(0)
    centres = torch.tensor([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0], [0.0, -4.0]])
    vq = VectorQuantizer(num_codes=4, dim=2, decay=0.9, dead_code_threshold=0.5)
    vq.initialized.fill_(True)
    vq.codebook.zero_()  # the worst start: every code in one place, three never chosen
    for step in range(60):
        vq(clusters(64, centres, seed=step))
    vq.eval()
    data = clusters(400, centres, seed=99)
    out = vq(data)
    assert out.perplexity > 3.9  # all four codes used, about equally
    # EMA updates moved each code onto a cluster centre.
    nearest = torch.cdist(vq.codebook, centres).min(dim=1).values
    assert (nearest < 0.1).all()
