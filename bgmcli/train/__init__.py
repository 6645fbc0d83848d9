"""Training: the paper's two-stage recipe (base network, then base + refiner), resumable, DDP."""
