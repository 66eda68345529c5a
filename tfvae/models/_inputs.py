"""Input checks shared by the models: clear errors before any computation.

Eagerly (the public methods, `fit` on arrays) problems raise `ValueError`
naming the input and what was expected; inside a graph (tf.data pipelines,
exported signatures) the same checks become `tf.debugging` assertions that
raise `InvalidArgumentError` with the same text.
"""

import inspect

import keras
import numpy as np
import tensorflow as tf

from tfvae.models._execution import AutoStepsPerExecution


def _shape_str(shape):
    return "(batch, " + ", ".join(str(d) for d in shape) + ")"


def _check_spec(dtype, shape, input_shape, name, owner):
    dtype = tf.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
        raise ValueError(f"{owner} expected `{name}` to be a float array; received dtype {dtype.name}.")
    if len(shape) != len(input_shape) + 1 or any(
            d is not None and e is not None and d != e for d, e in zip(shape[1:], input_shape)):
        raise ValueError(f"{owner} expected `{name}` of shape {_shape_str(input_shape)}; "
                         f"received shape {shape}.")


def check_static(x, input_shape, name, owner):
    """Dtype and shape checks; returns `x` as a float32 tensor."""
    if not tf.is_tensor(x):
        x = np.asarray(x)
        if x.dtype == object or x.dtype.kind in "USV":
            raise ValueError(f"{owner} expected `{name}` to be a numeric array; received dtype {x.dtype}.")
    _check_spec(x.dtype, tuple(x.shape), input_shape, name, owner)
    return tf.cast(x, tf.float32)


def check_values(x, likelihood, name, owner):
    """NaN/Inf and likelihood-support checks on a float32 tensor."""
    finite = tf.reduce_all(tf.math.is_finite(x))
    nan_msg = f"{owner}: `{name}` contains NaN or infinite values."
    if likelihood is None:
        support_ok, support_msg = True, ""
    else:
        support_ok = likelihood.in_support(x)
        support_msg = (f"{owner}: `{name}` has values outside the support of the "
                       f"{type(likelihood).__name__} likelihood, {likelihood.support}")
    if tf.executing_eagerly():
        if not bool(finite):
            raise ValueError(nan_msg)
        if not bool(support_ok):
            hint = f"; {likelihood.support_hint}" if likelihood.support_hint else ""
            raise ValueError(f"{support_msg} (received min {float(tf.reduce_min(x)):.4g}, "
                             f"max {float(tf.reduce_max(x)):.4g}){hint}.")
        return x
    deps = [tf.debugging.Assert(finite, [nan_msg])]
    if likelihood is not None:
        deps.append(tf.debugging.Assert(support_ok, [support_msg]))
    with tf.control_dependencies(deps):
        return tf.identity(x)


def check_input(x, input_shape, likelihood=None, name="x", owner="VAE"):
    return check_values(check_static(x, input_shape, name, owner), likelihood, name, owner)


def validated_dataset(ds, input_shape, likelihood, owner, name="x"):
    """Checks the element spec now and every batch's values as it streams."""
    spec = ds.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, tf.TensorSpec):
        raise ValueError(f"{owner} expected a dataset of tensors or (x, ...) tuples; "
                         f"received element_spec {spec}.")
    shape = tuple(x_spec.shape.as_list()) if x_spec.shape.rank is not None else ()
    _check_spec(x_spec.dtype, shape, input_shape, name, owner)

    def check(*elem):
        x = check_values(tf.cast(elem[0], tf.float32), likelihood, name, owner)
        return (x,) + tuple(elem[1:]) if len(elem) > 1 else x

    # A plain map followed by a prefetch runs the check one batch ahead on the
    # pipeline's thread, off the training step's path (a parallel map would
    # compete with the step for the same cores).
    return without_autotune_model(ds.map(check).prefetch(tf.data.AUTOTUNE))


def without_autotune_model(ds):
    """`ds` with tf.data's autotuning model off, unless its options set it.

    Keras makes a new iterator over the dataset every epoch (and every
    `evaluate` call). With autotuning on, each iterator runs a model thread
    that re-optimises the pipeline on a period that grows to about a second,
    and tearing the old iterator down waits for it, so the next epoch's
    first step can start up to that late (`benchmarks/epoch_starts.py`).
    Off, `AUTOTUNE` still means something: a parallel map runs on as many
    threads as there are cores and a prefetch buffer grows when the consumer
    finds it empty. A dataset whose options set `autotune.enabled` keeps its
    choice.
    """
    if ds.options().autotune.enabled is not None:
        return ds
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def arrays_as_dataset(method, x, y, args, kwargs):
    """In-memory arrays given to `fit` or `evaluate` as the `tf.data` pipeline
    Keras would build from them, with the autotuning model off
    (`without_autotune_model`).

    Same batches in the same order: the dataset is Keras's own
    (`ArrayDataAdapter`, with the call's `batch_size`, `sample_weight` and
    step count, and for `fit` its `shuffle` and `class_weight`), and its
    length is kept, so callbacks and the progress bar see the same step
    count. Returns `(x, y, args, kwargs)` for `keras.Model.<method>`;
    anything else (datasets, generators, `validation_split`, which Keras
    applies to the arrays first) is returned as given.
    """
    from keras.src.trainers.data_adapters import array_data_adapter

    call = inspect.signature(getattr(keras.Model, method)).bind_partial(None, x, y, *args, **kwargs)
    given = dict(call.arguments)
    given.pop("self")
    given.update(given.pop("kwargs", {}))
    if x is None or given.get("validation_split") or isinstance(x, tf.data.Dataset) or \
            not array_data_adapter.can_convert_arrays((x, y, given.get("sample_weight"))):
        return x, y, args, kwargs
    training = method == "fit"
    batch_size = given.pop("batch_size", None)
    adapter = array_data_adapter.ArrayDataAdapter(
        x, y, sample_weight=given.pop("sample_weight", None),
        class_weight=given.pop("class_weight", None) if training else None,
        shuffle=given.pop("shuffle", True) if training else False, batch_size=batch_size,
        steps=given.get("steps_per_epoch" if training else "steps"))
    dataset = adapter.get_tf_dataset().apply(tf.data.experimental.assert_cardinality(adapter.num_batches))
    given.pop("x"), given.pop("y", None)
    if training:
        # Validation arrays are batched by `validation_batch_size or batch_size`.
        given["validation_batch_size"] = given.get("validation_batch_size") or batch_size
        given["shuffle"] = False   # the dataset is shuffled; Keras would warn that it ignores `shuffle`
    return without_autotune_model(dataset), None, (), given


class CheckedFit(AutoStepsPerExecution):
    """`fit` / `evaluate` that check their data first (mixin before `keras.Model`).

    Arrays are checked up front (`ValueError` before any weight moves);
    datasets are checked batch by batch as they stream (`validated_dataset`).
    A model provides `data_shape` and `likelihood`; it may override
    `_checked_xy` (e.g. to check a condition alongside `x`) and
    `_before_fit(x, y, fit_kwargs)` (runs on the checked data just before
    Keras's `fit`), and set `_check_support_by_default` (False where most
    methods take data outside the likelihood's support, e.g. a VQ-VAE's
    encoder). `steps_per_execution` defaults to "auto"
    (`tfvae.models._execution`).
    """

    _check_support_by_default = True

    def _check(self, x, check_support=None):
        """`x` as a float32 tensor after the shape, finiteness and (optionally)
        likelihood-support checks."""
        if check_support is None:
            check_support = self._check_support_by_default
        return check_input(x, self.data_shape, self.likelihood if check_support else None,
                           owner=type(self).__name__)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras would warn that `shuffle` is ignored.
            kwargs.setdefault("shuffle", False)
        x, y = self._checked_xy(x, y)
        if validation_data is not None:
            validation_data = self._checked_data(validation_data)
        self._before_fit(x, y, kwargs)
        x, y, args, kwargs = arrays_as_dataset("fit", x, y, args, kwargs)
        history = super().fit(x, y, *args, validation_data=validation_data, **kwargs)
        epochs = args[1] if len(args) > 1 else kwargs.get("epochs", 1)
        if not history.history and epochs > kwargs.get("initial_epoch", 0) and not self.stop_training:
            # A dataset of unknown length that yielded nothing: Keras returns
            # an empty History without a word.
            raise ValueError("Expected `x` to yield at least one batch. Received: an empty dataset; "
                             "nothing was trained.")
        return history

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Keras `evaluate` on checked data. Called directly (not as `fit`'s
        validation), it draws its noise from the model's seed-generator
        states as they are when it is called and puts them back afterwards:
        two calls in a row give the same numbers, and evaluating does not
        shift the training noise that follows."""
        in_fit = kwargs.get("_use_cached_eval_dataset")   # fit's validation, checked when fit began
        if not in_fit:
            x, y = self._checked_xy(x, y)
            x, y, args, kwargs = arrays_as_dataset("evaluate", x, y, args, kwargs)
        states = None if in_fit else _seed_states(self)
        try:
            result = super().evaluate(x, y, *args, **kwargs)
        finally:
            for variable, value in states or ():
                variable.assign(value)
        if result is None or (isinstance(result, (dict, list)) and len(result) == 0):
            raise ValueError("Expected `x` to yield at least one batch. Received: an empty dataset.")
        return result

    def _before_fit(self, x, y, fit_kwargs):
        pass

    def _checked_xy(self, x, y):
        """`fit`/`evaluate`'s `(x, y)` with x checked; y as given."""
        return self._checked_data(x), y

    def _checked_data(self, data):
        if isinstance(data, tf.data.Dataset):
            if int(data.cardinality()) == 0:
                raise ValueError("Expected `x` to hold at least one example. Received: an empty dataset.")
            return validated_dataset(data, self.data_shape, self.likelihood, type(self).__name__)
        if isinstance(data, (np.ndarray, list, tuple, tf.Tensor)) and _num_rows(data) == 0:
            raise ValueError("Expected `x` to hold at least one example. Received: an empty array "
                             f"(shape {tuple(np.shape(data[0] if isinstance(data, tuple) else data))}).")
        if isinstance(data, tuple):
            return (self._check(data[0], check_support=True).numpy(),) + tuple(data[1:])
        if data is None or not isinstance(data, (np.ndarray, list, tf.Tensor)):
            return data
        return self._check(data, check_support=True).numpy()


def _num_rows(data):
    first = data[0] if isinstance(data, tuple) else data
    shape = np.shape(first) if not tf.is_tensor(first) else tuple(first.shape)
    return shape[0] if len(shape) else None



def _seed_states(model):
    """`(variable, value)` of every `SeedGenerator` state of the model."""
    return [(v, v.numpy()) for v in model.variables if v.path.endswith("seed_generator_state")]
