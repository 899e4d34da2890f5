"""Training: architectures, batch augmentation, the training loop and checkpoints (needs torch)."""
