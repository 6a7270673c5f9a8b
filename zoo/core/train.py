"""One training loop for every family: build, fit, keep the best, resume, report.

Read this file top to bottom to follow a run: `train()` resolves the recipe,
asks the family for data and a model, compiles with AdamW and a cosine
schedule, fits with the callbacks below, then evaluates the kept checkpoint (the best
epoch, or with `train.keep='last'` the last).
The family is an object implementing `zoo.core.family.Family`; nothing here
knows which one.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf
from matplotlib.figure import Figure

from zoo.core import checkpoints, distributed, runs
from zoo.core.distill import load_teachers, with_teachers
from zoo.core.errors import ZooError
from zoo.core.family import Family
from zoo.core.load import keras_model
from zoo.core.recipe import Recipe, check_values


def _max_seconds_callback(seconds: float, spent: float = 0.0, clock=time.monotonic):
    class MaxSeconds(keras.callbacks.Callback):
        """Stops training once `seconds` of wall-clock time have passed (`spent` of them before a resume).

        The epoch in progress ends early and is still validated, so the best
        checkpoint reflects everything trained.
        """

        stopped_at = None

        def on_train_begin(self, logs=None):
            self.start = clock() - spent
            self.stopped_at = None

        def on_train_batch_end(self, batch, logs=None):
            if clock() - self.start >= seconds:
                self.model.stop_training = True
                self.stopped_at = clock() - self.start

    return MaxSeconds()


def _clock_callbacks(t, spent: float = 0.0, clock=time.monotonic):
    """Records `seconds` (wall clock since training began, `spent` of it before a resume) in every epoch's
    logs, and with `schedule="time_cosine"` sets the learning rate by the fraction of `max_seconds` spent.
    `clock` is `time.monotonic`, or on several workers the clock they share."""
    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = clock() - spent

        def on_train_batch_begin(self, batch, logs=None):
            if t.schedule == "time_cosine":
                self.model.optimizer.learning_rate = time_cosine(t, clock() - self.start)

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["seconds"] = round(clock() - self.start, 1)

    return Clock()


def time_cosine(t, elapsed: float) -> float:
    """Learning rate after `elapsed` seconds of a `max_seconds` budget: linear warm-up over
    the first 2 %, then cosine decay to 1 % of the peak at the end of the budget.

    Example:
        >>> from zoo.core.recipe import TrainConfig
        >>> t = TrainConfig(learning_rate=1.0, max_seconds=100.0)
        >>> [round(time_cosine(t, s), 3) for s in (1, 2, 51, 100)]
        [0.5, 1.0, 0.505, 0.01]
    """
    frac = min(1.0, max(0.0, elapsed / t.max_seconds))
    warm = 0.02
    if frac < warm:
        return t.learning_rate * max(frac / warm, 0.01)
    return t.learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * (frac - warm) / (1.0 - warm))))


def _schedule(recipe: Recipe, steps_per_epoch: int):
    t = recipe.train
    if t.schedule == "constant":
        return t.learning_rate
    if t.schedule == "time_cosine":
        if not t.max_seconds:
            raise ZooError("train.schedule='time_cosine' decays over train.max_seconds; set it above 0")
        return time_cosine(t, 0.0)
    total = max(1, t.epochs * steps_per_epoch)
    warmup = min(total - 1, int(t.warmup_epochs * steps_per_epoch))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=t.learning_rate * 0.01 if warmup else t.learning_rate,
        decay_steps=total - warmup, alpha=0.01, warmup_target=t.learning_rate if warmup else None,
        warmup_steps=warmup)


def plot_history(run_dir: Path) -> None:
    """curves.png: every metric in history.csv against the epoch."""
    rows = checkpoints.read_history(run_dir / runs.HISTORY)
    if not rows:
        return
    names = sorted({k.removeprefix("val_") for k in rows[0] if k not in ("epoch", "learning_rate", "seconds")})
    fig = Figure(figsize=(4.5 * len(names), 3.5))
    axes = fig.subplots(1, len(names), squeeze=False)
    epochs = [int(r["epoch"]) + 1 for r in rows]
    for ax, name in zip(axes[0], names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in rows[0]:
                ax.plot(epochs, [float(r[key]) for r in rows], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    runs.save_figure(fig, run_dir / "curves.png")


def train(recipe: Recipe, family: Family, run_dir: Path, data_root: Path = Path("data"), resume: bool = False,
          verbose: int | str = "auto", overwrite: bool = False, strategy: str = "one") -> dict:
    """Trains `recipe` into `run_dir` and returns the metrics of its kept checkpoint (`train.keep`).

    Args:
        recipe: the resolved recipe (overrides and --data applied).
        family: the recipe's family.
        run_dir: the run directory to create (or, with `resume`, continue).
        data_root: where data sets are downloaded, synthesized and cached.
        resume: continue from `run_dir/checkpoints` with the saved recipe.
        overwrite: replace an existing run directory (removed only once the data and model are ready).
        verbose: Keras progress-bar mode.
        strategy: `one`, `mirrored`, `multiworker` or `auto` (see `zoo.core.distributed`). A worker that is
            not the chief trains in a scratch folder it removes, and returns only what it trained.
    """
    placement = distributed.place(strategy)  # first: the multi-worker strategy must precede other TF ops
    if placement.chief:
        return _train(recipe, family, Path(run_dir), Path(data_root), resume, verbose, overwrite, placement)
    scratch = Path(tempfile.mkdtemp(prefix="zoo-worker-"))
    try:  # the chief restores a resumed run and sends it to the others
        return _train(recipe, family, scratch / "run", Path(data_root), False, verbose, False, placement)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train(recipe: Recipe, family: Family, run_dir: Path, data_root: Path, resume: bool, verbose, overwrite: bool,
           placement: distributed.Placement) -> dict:
    check_values(recipe)
    family.check_recipe(recipe)
    recipe_json = runs.prepare(run_dir, recipe.to_dict(), resume, overwrite)
    if placement.custom_loop:
        recipe_json = distributed.share_json(placement, recipe_json)  # every worker trains the chief's recipe
    recipe = family.recipe_from_dict(recipe_json)
    check_values(recipe)  # a saved or the chief's recipe, which the user may have edited
    family.check_recipe(recipe)
    t = recipe.train
    keras.utils.set_random_seed(t.seed)
    if t.deterministic:
        tf.config.experimental.enable_op_determinism()

    # Data and model come from the family; a data set that fails to load leaves no run behind.
    splits = family.datasets(recipe, data_root)
    teachers = load_teachers(recipe, family, splits.meta)  # train.teachers: the targets mix in their answers
    with placement.strategy.scope():  # the model's variables are the strategy's (mirrored on every replica)
        model = family.build(recipe, splits.meta)  # a recipe that cannot be built leaves no run behind either
    if placement.strategy.num_replicas_in_sync > 1:  # batch statistics over the global batch, as on one device
        distributed.synchronize_batch_statistics(model)
    if not resume:
        runs.create(run_dir, recipe_json, overwrite)
    family.save_meta(run_dir, splits.meta)
    runs.write_json(run_dir / "data.json", splits.info)
    steps = t.steps_per_epoch or max(1, math.floor(splits.train_size / t.batch_size))
    train_ds = with_teachers(splits.train, teachers, t.teacher_weight)
    with placement.strategy.scope():
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=_schedule(recipe, steps),
                                             weight_decay=t.weight_decay,
                                             global_clipnorm=t.clipnorm or None,
                                             use_ema=t.ema > 0, ema_momentum=t.ema or 0.99),
            **family.compile_args(recipe))
        if placement.custom_loop:  # model.fit would build these on its first batch
            _build_training_state(model, train_ds)

    # A resumed run continues from its newest whole checkpoint (weights, optimizer and dropout seed state),
    # and sees the data in the order an uninterrupted run would have (the pipeline is fast-forwarded).
    start = 0
    if resume:
        runs.remove_stale_temporaries(run_dir)  # half-written files of the killed process
        start, notes = checkpoints.restore(model, run_dir / runs.CHECKPOINTS)
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
    history = checkpoints.History(run_dir / runs.HISTORY, start)
    best = runs.best_value(history.rows, family.monitor, family.monitor_mode)
    # The clock and the budget go on from the seconds the restored epochs took.
    spent = float(history.rows[-1].get("seconds") or 0) if history.rows else 0.0
    if placement.custom_loop:  # the chief's state (restored, on --resume), epoch and seconds on every worker
        start, spent = distributed.broadcast_from_chief(placement, checkpoints.state_variables(model),
                                                        [start, spent])
        start = int(start)

    # Callbacks: the family's, history, kept model, checkpoint (each written whole), TensorBoard, time budget.
    clock = distributed.SharedClock() if placement.custom_loop else time.monotonic
    budget = _max_seconds_callback(t.max_seconds, spent, clock) if t.max_seconds else None
    saver = checkpoints.Checkpoints(run_dir / runs.CHECKPOINTS)
    callbacks = [
        _clock_callbacks(t, spent, clock),  # first, so the epoch's `seconds` reaches the CSV log
        saver.snapshot,  # the state training goes on from, read before the averaged weights are swapped in
        # With weight averaging, every later callback sees the averaged weights at the epoch's end.
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if t.ema else []),
        *family.callbacks(recipe, splits),  # before the checkpoint, which may monitor what they log
        history,  # before the checkpoint: an epoch whose row is written but not its checkpoint is trained again
        checkpoints.KeepModel(run_dir / runs.MODEL, family.monitor, family.monitor_mode, best,
                              last=t.keep == "last"),
        saver,
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False, profile_batch=0),
    ]
    if t.patience:
        callbacks.append(checkpoints.EarlyStopping(family.monitor, family.monitor_mode, t.patience, history.rows))
    if budget:
        callbacks.append(budget)
    # One iterator for the whole fit, so epoch k reads the pipeline's k-th pass (each pass reshuffled and
    # augmented anew). A resumed run first draws, and drops, the batches of the epochs it has done: the
    # pipeline's shuffles and random augmentations then continue as in an uninterrupted run.
    passes = t.steps_per_epoch or int(train_ds.cardinality())  # batches an epoch
    if passes > 0:
        train_ds = train_ds.repeat().skip(start * passes)
    elif placement.custom_loop:
        raise ZooError("--strategy multiworker needs a training pipeline of known length")
    else:  # a pipeline of unknown length (none of the families' today): Keras makes an iterator an epoch
        passes = None
    began = time.monotonic()
    if start < t.epochs and not (t.max_seconds and spent >= t.max_seconds):  # a finished run resumes to its report
        if placement.custom_loop:
            distributed.fit(model, placement, train_ds, splits.validation, epochs=t.epochs, initial_epoch=start,
                            steps_per_epoch=passes, callbacks=callbacks, verbose=verbose, clock=clock)
        else:
            model.fit(train_ds, validation_data=splits.validation, epochs=t.epochs, initial_epoch=start,
                      steps_per_epoch=passes, callbacks=callbacks, verbose=verbose,
                      shuffle=False)  # the family's tf.data pipeline shuffles
    seconds = time.monotonic() - began
    trained = {}
    if placement.custom_loop:  # the workers' final states are identical: each prints this digest of its own
        trained = dict(final_state_sha256=checkpoints.state_digest(model))
    if not placement.chief:
        return dict(worker_trained_seconds=round(seconds, 1), epochs_run=len(history.rows), recipe=recipe.name,
                    workers=placement.workers, **trained)
    plot_history(run_dir)

    # Report on the kept checkpoint (`train.keep`): by default the best, not the last epoch.
    kept = keras_model(run_dir / runs.MODEL, family.custom_objects())
    metrics = family.final_metrics(kept, splits, run_dir, recipe)
    metrics.update(train_seconds=round(seconds, 1), epochs_run=len(history.rows),
                   stopped_by_budget=bool(budget and budget.stopped_at),
                   params=int(kept.count_params()),
                   recipe=recipe.name)
    if placement.name != "one":
        metrics.update(strategy=placement.name, workers=placement.workers, **trained)
    runs.write_json(run_dir / runs.METRICS, metrics)
    return metrics


def _build_training_state(model, dataset: tf.data.Dataset) -> None:
    """Creates the optimizer's, loss trackers' and metrics' variables, outside the replicas, as `model.fit`
    does before its first step; on a batch of zeros shaped like the dataset's, so no iterator is drawn (which
    would move the shuffle on); the metrics are then reset."""
    def zeros(spec):
        return tf.zeros([1 if d is None else d for d in spec.shape], spec.dtype)

    batch = tf.nest.map_structure(zeros, dataset.element_spec)
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
    predicted = model(x, training=False)
    model.compute_loss(x, y, predicted, sample_weight, training=False)
    model.compute_metrics(x, y, predicted, sample_weight)
    model.reset_metrics()
    model.optimizer.build(model.trainable_variables)
