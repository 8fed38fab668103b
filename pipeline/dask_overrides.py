"""Pipeline rewrites of the Dask runner, applied before it plans: reads, Creates and combiners.

- a bounded ``Read`` becomes ``DaskRead``: the source is split on the driver and each split is
  read by its own task (the runner's stages start from it);
- ``Create`` becomes ``DaskCreate``: its values, sliced into partitions (one per value up to
  256 or ``--dask_partitions``), with no shuffle;
- ``CombinePerKey`` (and so ``CombineGlobally``) over the global window is lifted, as Beam's
  own runners do: each bundle combines its values per key before the shuffle
  (``add_input``), the GroupByKey moves one accumulator per key and bundle, and the reader
  merges them (``merge_accumulators`` then ``extract_output``); a ``CombineGlobally``'s
  shuffle has one key, so one bucket.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import iobase
from apache_beam.pipeline import AppliedPTransform, PTransformOverride
from apache_beam.transforms import core, window
from apache_beam.transforms.core import Windowing
from apache_beam.utils.windowed_value import WindowedValue


class _DaskRoot(beam.PTransform):
    """A primitive root of the Dask runner: a bounded PCollection in the global window."""

    def expand(self, pbegin):
        return pvalue.PCollection(pbegin.pipeline, is_bounded=True)

    def get_windowing(self, inputs):
        return Windowing(window.GlobalWindows())


class DaskRead(_DaskRoot):
    """Primitive of the Dask runner: a bounded source, split on the driver into ``bundle_bytes`` pieces."""

    def __init__(self, source, bundle_bytes: int = 64 << 20) -> None:
        super().__init__()
        self.source = source
        self.bundle_bytes = bundle_bytes


class DaskCreate(_DaskRoot):
    """Primitive of the Dask runner: a Create's values, one partition per slice."""

    def __init__(self, values: list, output_type) -> None:
        super().__init__()
        self.values = values
        self.output_type = output_type

    def infer_output_type(self, unused_input_type):
        return self.output_type


class _ReadOverride(PTransformOverride):
    def matches(self, applied: AppliedPTransform) -> bool:
        return isinstance(applied.transform, iobase.Read) and isinstance(applied.transform.source, iobase.BoundedSource)

    def get_replacement_transform_for_applied_ptransform(self, applied: AppliedPTransform):
        return DaskRead(applied.transform.source)


class _CreateOverride(PTransformOverride):
    def matches(self, applied: AppliedPTransform) -> bool:
        return type(applied.transform) is beam.Create

    def get_replacement_transform_for_applied_ptransform(self, applied: AppliedPTransform):
        t = applied.transform
        return DaskCreate(list(t.values), t.get_output_type())


class _PartialCombine(beam.DoFn):
    """Combine a bundle's values per key (at most ``max_keys`` held, then flushed)."""

    def __init__(self, combine_fn: core.CombineFn, max_keys: int = 10_000) -> None:
        self.combine_fn = combine_fn
        self.max_keys = max_keys

    def setup(self) -> None:
        self.combine_fn.setup()
        self.accumulators: dict = {}

    def start_bundle(self) -> None:
        self.accumulators = {}

    def process(self, kv):
        key, value = kv
        fn = self.combine_fn
        acc = self.accumulators.get(key)
        self.accumulators[key] = fn.add_input(fn.create_accumulator() if acc is None else acc, value)
        if len(self.accumulators) >= self.max_keys:
            yield from self._flush(lambda kv: kv)

    def finish_bundle(self):
        yield from self._flush(lambda kv: WindowedValue(kv, window.GlobalWindow().max_timestamp(),
                                                        (window.GlobalWindow(),)))

    def _flush(self, wrap):
        accumulators, self.accumulators = self.accumulators, {}
        for key, acc in accumulators.items():
            yield wrap((key, self.combine_fn.compact(acc)))

    def teardown(self) -> None:
        self.combine_fn.teardown()


class _MergeAccumulators(beam.DoFn):
    def __init__(self, combine_fn: core.CombineFn) -> None:
        self.combine_fn = combine_fn

    def setup(self) -> None:
        self.combine_fn.setup()

    def process(self, kv):
        key, accumulators = kv
        fn = self.combine_fn
        yield key, fn.extract_output(fn.merge_accumulators(accumulators))

    def teardown(self) -> None:
        self.combine_fn.teardown()


class OneBucketGroupByKey(beam.GroupByKey):
    """A GroupByKey over one key (a CombineGlobally's): the runner shuffles it into one bucket, not N."""


class _LiftedCombinePerKey(beam.PTransform):
    def __init__(self, combine_fn: core.CombineFn, one_key: bool) -> None:
        super().__init__()
        self.combine_fn = combine_fn
        self.one_key = one_key

    def expand(self, pcoll):
        return (pcoll | "PartialCombine" >> beam.ParDo(_PartialCombine(self.combine_fn))
                | "GroupByKey" >> (OneBucketGroupByKey() if self.one_key else beam.GroupByKey())
                | "MergeAccumulators" >> beam.ParDo(_MergeAccumulators(self.combine_fn)))


class _CombineOverride(PTransformOverride):
    def matches(self, applied: AppliedPTransform) -> bool:
        t = applied.transform
        return (type(t) is beam.CombinePerKey and not t.side_inputs and not t.args and not t.kwargs
                and isinstance(applied.inputs[0].windowing.windowfn, window.GlobalWindows))

    def get_replacement_transform_for_applied_ptransform(self, applied: AppliedPTransform):
        one_key = isinstance(getattr(applied.parent, "transform", None), beam.CombineGlobally)
        return _LiftedCombinePerKey(core.CombineFn.maybe_from_callable(applied.transform.fn), one_key)


OVERRIDES = [_CreateOverride(), _ReadOverride(), _CombineOverride()]
