"""The seed study's ablation for pytorch_mlp.py: Keras' Adam epsilon, as a
change to the program.

The section below gives pytorch_mlp.py Keras' epsilon (the comment above it
says where it goes); Keras' initial weights are Exercise 2.3's solution, in
pytorch_exercises.py. This file is not a program of its own: `make seeds`
(tools/seed_study.py) applies the section, Exercise 2.3's or both to a copy
of pytorch_mlp.py, trains that copy once per seed, and the Model and Parity
pages compare what it scored with Keras. The mirror of keras_ablation.py.
"""

# ruff: noqa: E402, F821
raise SystemExit("fragments of pytorch_mlp.py: `make seeds` runs them")

# At the start of the training step, before optimizer.step(): Keras' epsilon.
# --8<-- [start:keras_epsilon]
# Keras' Adam adds its epsilon, 1e-7, to the square root of v before the bias
# correction that PyTorch applies first. In PyTorch's formula that is an
# epsilon of 1e-7 / sqrt(1 - beta_2 ** step): about 3e-6 at the first step,
# 1e-7 once the correction has faded (a few thousand steps).
step = scheduler.last_epoch + 1  # the step about to be taken, from 1
beta_2 = optimizer.param_groups[0]["betas"][1]
optimizer.param_groups[0]["eps"] = 1e-7 / math.sqrt(1 - beta_2**step)
# --8<-- [end:keras_epsilon]
