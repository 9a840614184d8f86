# Written by `python -m tools.results` from tools/results.py: edit that
# file, then rerun the command (a test checks that this one matches).

.PHONY: artifacts seeds exercises porting notebook bench export scale

artifacts: $(VENV)/.installed ## retrain both models, regenerate docs/generated/, the seed study, the exercises' and porting results and the notebooks
	$(BIN)/python -m tools.retrain
	$(MAKE) seeds exercises porting notebook

seeds: $(VENV)/.installed ## train both models with several seeds, and with each other's defaults; the seed study in docs/seeds/
	$(BIN)/python -m tools.seed_study

exercises: $(VENV)/.installed ## run every solution of the Exercises page; results in docs/exercises/
	$(BIN)/python -m tools.exercises

porting: $(VENV)/.installed ## run what changes meaning between Keras and PyTorch (weight decay, resuming, determinism, train_step); results in docs/porting/
	$(BIN)/python -m tools.porting

notebook: $(VENV)/.installed ## assemble the notebooks from the programs and execute the solution
	$(BIN)/python -m tools.build_notebooks

bench: $(VENV)/.installed ## benchmark Keras (three backends), PyTorch and their input pipelines; results in docs/benchmark/
	$(BIN)/python -m tools.benchmark
	$(BIN)/python -m tools.pipeline_benchmark

export: $(VENV)/.installed runs/keras/mlp.keras runs/pytorch/mlp.pt ## save both models in six deployable forms, reload and time each; results in docs/deployment/
	$(BIN)/python -m tools.deployment

scale: $(VENV)/.installed ## train on 1 and 2 workers (torchrun DDP, tf.distribute) over loopback; results in docs/scaling/ (EPOCHS=n to shorten)
	$(BIN)/python -m tools.scaling $(if $(EPOCHS),--epochs $(EPOCHS))

runs/keras/mlp.keras: code/keras_mlp.py code/mnist_data.py code/run_record.py | $(VENV)/.installed
	KERAS_BACKEND=tensorflow $(BIN)/python code/keras_mlp.py --quiet --output-dir runs/keras

runs/pytorch/mlp.pt: code/pytorch_mlp.py code/mnist_data.py code/run_record.py | $(VENV)/.installed
	$(BIN)/python code/pytorch_mlp.py --quiet --output-dir runs/pytorch
