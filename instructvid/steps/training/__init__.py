"""Training the step model: the learner, its epochs, gradients, optimiser, state, data, checkpoints and prediction."""
