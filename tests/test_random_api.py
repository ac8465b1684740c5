"""torch.manual_seed / torch.seed / torch.Generator as PyTorch programs use them."""

import tinytorch as torch


def test_manual_seed_returns_the_default_generator_and_seeds_it():
    g = torch.manual_seed(3)
    assert isinstance(g, torch.Generator) and torch.initial_seed() == 3
    a = torch.randn(4, generator=g)
    torch.manual_seed(3)
    assert torch.equal(a, torch.randn(4)) if hasattr(torch, "equal") else \
        (a.numpy() == torch.randn(4).numpy()).all()


def test_seed_draws_a_new_seed_each_time():
    s1, s2 = torch.seed(), torch.seed()
    assert s1 != s2 and torch.initial_seed() == s2 and 0 <= s1 < 2**63


def test_a_new_generator_is_reproducible_as_in_pytorch():
    """torch.Generator() starts from a fixed seed: two fresh ones give the same numbers."""
    a = torch.randperm(10, generator=torch.Generator())
    b = torch.randperm(10, generator=torch.Generator())
    assert a.tolist() == b.tolist()
    c = torch.randperm(10, generator=torch.Generator().manual_seed(1))
    assert sorted(c.tolist()) == list(range(10))
