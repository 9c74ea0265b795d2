"""User-defined functions for Arbalest, in Python.

Run by the host as a plugin (no Go code):

    arbalest --plugin udfs=examples/python/udfs.py ...
    # which starts: python -m arbalest.plugin examples/python/udfs.py

then, in SQL:

    SELECT haversine_km(lat, lon, 48.8566, 2.3522), slug(title), geo_mean(price)
    FROM ... GROUP BY ...

``python -m arbalest.plugin examples/python/udfs.py --describe`` prints the
functions and the Substrait extension YAML the plugin declares.
"""

import math

import pyarrow as pa
import pyarrow.compute as pc

import arbalest

EARTH_RADIUS_KM = 6371.0088


@arbalest.udf(args=[pa.float64(), pa.float64(), pa.float64(), pa.float64()], returns=pa.float64())
def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in kilometres between two points given in degrees."""
    rad = math.pi / 180
    dlat = pc.multiply(pc.subtract(lat2, lat1), rad / 2)
    dlon = pc.multiply(pc.subtract(lon2, lon1), rad / 2)
    a = pc.add(
        pc.power(pc.sin(dlat), 2),
        pc.multiply(
            pc.multiply(pc.cos(pc.multiply(lat1, rad)), pc.cos(pc.multiply(lat2, rad))),
            pc.power(pc.sin(dlon), 2),
        ),
    )
    return pc.multiply(pc.asin(pc.sqrt(a)), 2 * EARTH_RADIUS_KM)


@arbalest.udf(args=[pa.string()], returns=pa.string())
def slug(title):
    """Lower-case words joined by hyphens: 'Hello, World!' -> 'hello-world'."""
    s = pc.utf8_lower(title)
    s = pc.replace_substring_regex(s, r"[^\p{L}\p{N}]+", "-")
    return pc.utf8_trim(s, "-")


@arbalest.udf(args=[pa.string(), pa.int64()], returns=pa.string(), null_on_null=True)
def repeat_word(word, times):
    """The word repeated the given number of times, space-separated."""
    # pyarrow has no element-wise repeat-and-join; plain Python over the
    # batch is fine for small strings (the SDK hands over whole batches).
    return pa.array(
        [None if w is None or n is None else " ".join([w] * max(n, 0))
         for w, n in zip(word.to_pylist(), times.to_pylist())],
        type=pa.string(),
    )


@arbalest.udaf(
    args=[pa.float64()],
    returns=pa.float64(),
    state=[pa.field("log_sum", pa.float64()), pa.field("count", pa.int64())],
)
class GeoMean:
    """Geometric mean of the positive values (NULLs and values <= 0 are skipped)."""

    def __init__(self):
        self.log_sum = 0.0
        self.count = 0

    def update(self, values):
        positive = pc.filter(values, pc.greater(values, 0))
        if len(positive):
            self.log_sum += pc.sum(pc.ln(positive)).as_py()
            self.count += len(positive)

    def merge(self, log_sums, counts):
        self.log_sum += pc.sum(log_sums).as_py() or 0.0
        self.count += pc.sum(counts).as_py() or 0

    def state(self):
        return [self.log_sum, self.count]

    def evaluate(self):
        return math.exp(self.log_sum / self.count) if self.count else None


if __name__ == "__main__":
    arbalest.serve()
