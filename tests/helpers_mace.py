"""A tiny MACE model for tests and benchmarks: built with MACE's own Python API and random
weights (seeded), saved with torch.save as mace_run_train saves its models. Much faster
than a fit (seconds instead of a minute), and a real MACE model all the same."""

from __future__ import annotations

import contextlib
import io
import warnings


def build_tiny_model(path, elements=(29, 47), seed: int = 1, r_max: float = 4.0,
                     channels: int = 16) -> str:
    """Write a two-interaction ScaleShiftMACE for ``elements`` (atomic numbers) to
    ``path`` and return it."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        import mace.calculators  # noqa: F401  (sets torch.load up for e3nn's constants)
        import numpy as np
        import torch
        from e3nn import o3
        from mace import modules

        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            torch.manual_seed(seed)
            block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
            model = modules.ScaleShiftMACE(
                r_max=r_max, num_bessel=8, num_polynomial_cutoff=5, max_ell=2,
                interaction_cls=block, interaction_cls_first=block, num_interactions=2,
                num_elements=len(elements),
                hidden_irreps=o3.Irreps(f"{channels}x0e+{channels}x1o"),
                MLP_irreps=o3.Irreps("16x0e"),
                atomic_energies=np.linspace(-3.0, -2.0, len(elements)),
                avg_num_neighbors=12.0, atomic_numbers=list(elements), correlation=2,
                gate=torch.nn.functional.silu, atomic_inter_scale=0.5, atomic_inter_shift=0.0)
            torch.save(model, str(path))
        finally:
            torch.set_default_dtype(previous)
    return str(path)
