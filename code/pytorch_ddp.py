"""Data-parallel training of the course's MLP with PyTorch's
DistributedDataParallel.

torchrun starts one process per worker and tells each its rank. On one machine,
over loopback (what `make scale` runs):

    torchrun --nnodes 1 --nproc-per-node 2 --master-addr 127.0.0.1 \\
        --master-port 29500 code/pytorch_ddp.py --threads 1

Every worker holds a copy of the model. Each step, the global batch of 128
images is split between the workers; each computes the gradients on its share,
DDP averages them across the workers, and every copy takes the same step. So
the training is that of pytorch_mlp.py, on the same 54,000 images, without its
model selection. The mirror of keras_multiworker.py.
"""

# --8<-- [start:setup]
import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from mnist_data import MnistError, load_mnist

HIDDEN_UNITS = 512  # as in pytorch_mlp.py
EPOCHS = 20  # as in pytorch_mlp.py
BATCH_SIZE = 128  # global, as in pytorch_mlp.py: the workers share each batch
LEARNING_RATE = 1e-3  # as in pytorch_mlp.py, with the same cosine decay
# held out as in pytorch_mlp.py: the same training images
VALIDATION_SIZE = 6000
SEED = 0  # the same in every worker: the same shuffled order everywhere
TIMEOUT = timedelta(seconds=120)  # how long a worker waits for the others

parser = argparse.ArgumentParser(
    description="Data-parallel training of the MLP with PyTorch DDP; start it "
    "with torchrun.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--epochs", type=int, default=EPOCHS, help="passes over the training set"
)
parser.add_argument(
    "--threads",
    type=int,
    default=os.cpu_count(),
    help="CPU threads per worker",
)
parser.add_argument(
    "--seed", type=int, default=SEED, help="seed for weights and order"
)
parser.add_argument(
    "--output-dir",
    default="runs/scaling/pytorch",
    help="where each worker's record goes",
)
parser.add_argument(
    "--data-dir",
    help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache "
    "or download",
)
args = parser.parse_args()

# torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for every worker;
# the process group reads them and connects the workers. gloo is the backend
# for CPUs (nccl is for GPUs).
dist.init_process_group("gloo", timeout=TIMEOUT)
rank, world_size = dist.get_rank(), dist.get_world_size()
if BATCH_SIZE % world_size:
    sys.exit(
        f"error: {world_size} workers cannot share a batch of {BATCH_SIZE}"
    )
# Workers on one machine share its cores: one thread each on 2 cores.
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
# --8<-- [end:setup]

# --8<-- [start:data]
try:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
except MnistError as error:
    sys.exit(f"error: {error}")
# Every worker loads the whole set (47 MB); the sampler picks its share.
x_train = x_train[:-VALIDATION_SIZE].reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
y_train = torch.from_numpy(y_train[:-VALIDATION_SIZE]).long()
y_test = torch.from_numpy(y_test).long()
# Each epoch, the sampler shuffles the indices the same way in every worker
# and deals them out by rank: worker r gets every world_size-th one. Slicing
# that share into batches of 128 / world_size gives each worker its part of
# every global batch.
sampler = DistributedSampler(
    range(len(x_train)), num_replicas=world_size, rank=rank, seed=args.seed
)
worker_batch_size = BATCH_SIZE // world_size
# --8<-- [end:data]

# --8<-- [start:model]
model = nn.Sequential(
    OrderedDict(
        hidden=nn.Linear(784, HIDDEN_UNITS),
        relu=nn.ReLU(),
        output=nn.Linear(HIDDEN_UNITS, 10),
    )
)
# DDP copies worker 0's initial weights to the others, then, during backward,
# averages every gradient across the workers (an all-reduce).
ddp_model = DistributedDataParallel(model)
# --8<-- [end:model]

# --8<-- [start:train]
optimizer = torch.optim.Adam(ddp_model.parameters(), lr=LEARNING_RATE)
steps_per_epoch = math.ceil(len(sampler) / worker_batch_size)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
    optimizer, T_max=args.epochs * steps_per_epoch
)
loss_function = nn.CrossEntropyLoss()
epoch_seconds = []
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    ddp_model.train()
    # a new order every epoch, the same in every worker
    sampler.set_epoch(epoch)
    indices = torch.tensor(list(sampler))
    loss_sum = 0.0
    for batch in indices.split(worker_batch_size):
        optimizer.zero_grad()
        loss = loss_function(ddp_model(x_train[batch]), y_train[batch])
        loss.backward()  # the workers exchange gradients here
        optimizer.step()
        scheduler.step()
        loss_sum += loss.item() * len(batch)
    epoch_seconds.append(time.perf_counter() - start)
    if rank == 0:
        print(
            f"Epoch {epoch}/{args.epochs} - {epoch_seconds[-1]:.1f}s"
            f" - loss on worker 0's share: {loss_sum / len(indices):.4f}",
            flush=True,
        )
# --8<-- [end:train]

# --8<-- [start:evaluate]
# Every copy has taken the same steps, so every worker evaluates
# the same model.
model.eval()
with torch.no_grad():
    logits = model(x_test)
test_loss = loss_function(logits, y_test).item()
test_accuracy = (logits.argmax(dim=1) == y_test).float().mean().item()
if rank == 0:
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
# --8<-- [end:evaluate]

# --8<-- [start:save]
# A record per worker, with a hash of its weights: equal hashes show the
# copies stayed identical.
weights = torch.cat(
    [parameter.detach().flatten() for parameter in model.parameters()]
)
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
record = {
    "framework": "pytorch",
    "workers": world_size,
    "worker": rank,
    "threads": args.threads,
    "epochs": args.epochs,
    "training_images": len(x_train),
    "epoch_seconds": epoch_seconds,
    "test_loss": test_loss,
    "test_accuracy": test_accuracy,
    "weights_sha256": hashlib.sha256(weights.numpy().tobytes()).hexdigest(),
}
(output_dir / f"worker-{rank}.json").write_text(
    json.dumps(record, indent=2) + "\n"
)
dist.destroy_process_group()
# --8<-- [end:save]
