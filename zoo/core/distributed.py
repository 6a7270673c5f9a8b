"""Training on TensorFlow's distribution strategies: `zoo train RECIPE --strategy auto|one|mirrored|multiworker`.

- `one`: this process's default device; `model.fit` as always.
- `mirrored`: `tf.distribute.MirroredStrategy`, one replica on each local GPU (the CPU when there is none);
  `model.fit` under the strategy.
- `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` over the cluster that `TF_CONFIG` names (one
  process per worker, each running the same command). Keras 3's `model.fit` fails under this strategy
  (keras-team/keras issue 20585), so `fit` below drives training itself: each step is `strategy.run` of the
  model's own `train_step` (Keras scales the loss by the replicas in sync and the optimizer all-reduces the
  gradients), the data is sharded by element (`AutoShardPolicy.DATA`), so every global batch is split among
  the workers and an epoch has the same steps as on one process, and the callbacks are called as
  `model.fit` calls them. Epoch metrics are read across all workers, and the clock the time budget and the
  `time_cosine` schedule go by is the workers' mean, agreed at every step, so every worker takes the same
  decisions (learning rate, stop, keep) and all end with identical weights.
- `auto`: `multiworker` when `TF_CONFIG` names more than one task, `mirrored` with more than one GPU, else `one`.

Only the chief (the `chief` task, or else worker 0) writes the run directory; the other workers write to a
scratch folder they remove. On `--resume` the chief restores the checkpoint and sends it to the others.

Example:
    >>> choose("auto", environ={})
    'one'
    >>> cluster_config({"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},'
    ...                 ' "task": {"type": "worker", "index": 1}}'})
    ({'worker': ['127.0.0.1:1', '127.0.0.1:2']}, 'worker', 1)
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import time

import keras
import numpy as np
import tensorflow as tf

from zoo.core.errors import ZooError
from zoo.core.recipe import STRATEGIES


def cluster_config(environ=os.environ) -> tuple[dict, str, int] | None:
    """(cluster, task type, task index) from `TF_CONFIG`, or None when it is not set."""
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = str(task["type"]), int(task["index"])
        if not isinstance(cluster, dict) or not all(isinstance(v, list) for v in cluster.values()):
            raise TypeError("cluster must map task types to address lists")
        if not 0 <= index < len(cluster.get(kind, [])):
            raise ValueError(f"task {kind}:{index} is not in the cluster")
    except (ValueError, KeyError, TypeError) as e:
        raise ZooError(f"TF_CONFIG: not a valid cluster description ({e})") from None
    return cluster, kind, index


def loopback_configs(workers: int) -> list[str]:
    """A `TF_CONFIG` for each of `workers` processes on this machine (127.0.0.1, free ports), for trying
    multi-worker training locally: start worker i with `TF_CONFIG=configs[i]`."""
    sockets = [socket.socket() for _ in range(workers)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        addresses = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    finally:
        for s in sockets:
            s.close()
    return [json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}})
            for i in range(workers)]


def choose(name: str, environ=os.environ) -> str:
    """The strategy `name` stands for (`auto` resolved by TF_CONFIG and the GPUs present)."""
    if name not in STRATEGIES:
        raise ZooError(f"--strategy {name}: unknown; choose one of {', '.join(STRATEGIES)}")
    if name != "auto":
        return name
    config = cluster_config(environ)
    if config and sum(len(v) for v in config[0].values()) > 1:
        return "multiworker"
    return "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "one"


@dataclasses.dataclass
class Placement:
    """Where training runs: the strategy, whether this process writes the run, how many processes train."""

    name: str
    strategy: tf.distribute.Strategy
    chief: bool = True
    workers: int = 1

    @property
    def custom_loop(self) -> bool:
        return self.name == "multiworker"


def place(name: str = "one") -> Placement:
    """Creates the strategy `name` asks for. Call it before any other TensorFlow op: the multi-worker
    strategy configures the collective ops at startup."""
    name = choose(name)
    if name == "one":
        return Placement(name, tf.distribute.get_strategy())
    if name == "mirrored":
        return Placement(name, tf.distribute.MirroredStrategy())
    config = cluster_config()
    chief, workers = True, 1
    if config:
        cluster, kind, index = config
        chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
        workers = sum(len(cluster.get(k, [])) for k in ("chief", "worker"))
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (ValueError, RuntimeError) as e:
        raise ZooError(f"--strategy multiworker: cannot start ({str(e).splitlines()[0]})") from None
    return Placement(name, strategy, chief, workers)


def synchronize_batch_statistics(model) -> int:
    """Makes every BatchNormalization layer of `model` compute its training statistics over the global batch
    (all replicas) rather than each replica's share, so the moving statistics, like the weights, stay
    identical on every worker and equal what one process would compute. Returns how many layers it set."""
    count = 0
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        stack.extend(getattr(layer, "layers", []))
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True
            count += 1
    return count


def shard_by_element(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Each worker takes its share of every batch (the families' pipelines read arrays, not files)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class SharedClock:
    """A monotonic clock every worker reads alike: seconds since `start()` are the workers' mean, as agreed
    at the last step. Callbacks call it as they would call `time.monotonic`."""

    def __init__(self):
        self.origin, self.elapsed = time.monotonic(), 0.0

    def start(self):
        self.origin, self.elapsed = time.monotonic(), 0.0

    def local(self) -> float:
        return time.monotonic() - self.origin

    def __call__(self) -> float:
        return self.origin + self.elapsed


def _first_local(strategy, values):
    return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0], values)


def _sum_over_workers(strategy, vector: np.ndarray) -> np.ndarray:
    """The sum over all workers of each one's float64 `vector` (of one length on every worker)."""
    local = tf.constant(np.asarray(vector, np.float64))
    values = strategy.experimental_distribute_values_from_function(lambda context: local)
    return strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None).numpy()


def broadcast_from_chief(placement: Placement, variables: list, extra: list[float]) -> list[float]:
    """Gives every worker the chief's values of `variables` (assigned) and of `extra` (returned): a resumed run
    restores its checkpoint on the chief only."""
    if placement.workers == 1:
        return list(extra)
    parts = [np.asarray(v.numpy(), np.float64).ravel() for v in variables] + [np.asarray(extra, np.float64)]
    total = broadcast_values(placement, np.concatenate(parts))
    offset = 0
    for variable in variables:
        size = int(np.prod(variable.shape))
        variable.assign(total[offset:offset + size].reshape(variable.shape).astype(variable.dtype))
        offset += size
    return [float(x) for x in total[offset:]]


def share_json(placement: Placement, obj):
    """The chief's `obj` (JSON-serializable) on every worker: all train the chief's recipe, whatever command
    line each was given (on `--resume`, the chief's saved one)."""
    if placement.workers == 1:
        return obj
    data = np.frombuffer(json.dumps(obj, sort_keys=True).encode(), np.uint8) if placement.chief else None
    (length,) = broadcast_values(placement, [float(len(data)) if placement.chief else 0.0])
    values = broadcast_values(placement, data.astype(np.float64) if placement.chief else np.zeros(int(length)))
    return json.loads(bytes(int(v) for v in values).decode())


def broadcast_values(placement: Placement, values) -> np.ndarray:
    """The chief's `values` (a float vector, of one length on every worker) on every worker."""
    return _sum_over_workers(placement.strategy, np.asarray(values, np.float64) * (1.0 if placement.chief else 0.0))


def _floats(logs: dict) -> dict:
    return {k: float(v) for k, v in logs.items()}


# What a collective step raises when another worker has gone (killed, crashed, unreachable).
LOST_WORKER = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError,
               tf.errors.DeadlineExceededError)


def fit(model, placement: Placement, train: tf.data.Dataset, validation: tf.data.Dataset | None, *, epochs: int,
        initial_epoch: int, steps_per_epoch: int, callbacks: list, verbose, clock: SharedClock) -> None:
    """`model.fit(train, validation_data=validation, ...)` for the multi-worker strategy (see the module
    docstring): `train` repeats, and each epoch takes `steps_per_epoch` global batches from it.

    A worker that goes away stops the others at their next step with one line (`ZooError`): the run keeps its
    last whole checkpoint, and every worker started again with `--resume` goes on from it.
    """
    try:
        _fit(model, placement, train, validation, epochs=epochs, initial_epoch=initial_epoch,
             steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=verbose, clock=clock)
    except LOST_WORKER as e:
        grpc = re.search(r'grpc_message:"([^"]+)"', str(e.message))
        cause = grpc.group(1) if grpc else str(e.message).strip().splitlines()[0]
        raise ZooError(f"--strategy multiworker: lost contact with another worker ({type(e).__name__}: "
                       f"{cause[:160]}); start every worker again with --resume") from None


def _fit(model, placement: Placement, train, validation, *, epochs, initial_epoch, steps_per_epoch, callbacks,
         verbose, clock) -> None:
    strategy = placement.strategy
    chief_verbose = verbose if placement.chief else 0
    calls = keras.callbacks.CallbackList(callbacks, add_history=False, add_progbar=chief_verbose != 0,
                                         model=model, verbose=1 if chief_verbose == "auto" else chief_verbose,
                                         epochs=epochs, steps=steps_per_epoch)

    @tf.function
    def train_step(iterator):
        return _first_local(strategy, strategy.run(model.train_step, args=(next(iterator),)))

    @tf.function
    def test_step(batch):
        return _first_local(strategy, strategy.run(model.test_step, args=(batch,)))

    batches = iter(strategy.experimental_distribute_dataset(shard_by_element(train)))
    held_out = strategy.experimental_distribute_dataset(shard_by_element(validation)) if validation else None

    def step_clock() -> bool:
        """Agrees the clock (the workers' mean) and the stop flag (any worker's) with the other workers;
        True when training is to stop."""
        local = np.array([clock.local(), float(bool(model.stop_training))])
        if placement.workers > 1:
            local = _sum_over_workers(strategy, local) / [placement.workers, 1]
        clock.elapsed = float(local[0])
        return bool(local[1])

    model.stop_training = False
    clock.start()
    calls.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        calls.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            if step_clock():
                break
            calls.on_train_batch_begin(step)
            calls.on_train_batch_end(step, _floats(train_step(batches)))
        logs = _floats(model.get_metrics_result())  # read across all workers
        if held_out is not None:
            model.reset_metrics()
            calls.on_test_begin()
            for step, batch in enumerate(held_out):
                calls.on_test_batch_begin(step)
                calls.on_test_batch_end(step, _floats(test_step(batch)))
            results = _floats(model.get_metrics_result())
            calls.on_test_end(results)
            logs.update({f"val_{k}": v for k, v in results.items()})
        step_clock()  # the epoch's `seconds` as every worker reads it
        calls.on_epoch_end(epoch, logs)
        if step_clock():
            break
    calls.on_train_end(logs)
