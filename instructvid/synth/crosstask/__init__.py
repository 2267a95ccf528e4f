"""The synthetic CrossTask world: specification, latent world, video plans, narration, features and statistics."""
