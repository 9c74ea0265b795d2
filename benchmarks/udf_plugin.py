"""The Python UDFs of the UDF benchmark (benchmarks/udf_bench.py), as an
Arbalest plugin. udf_bench.py registers the same function bodies (add_one,
haversine_km) with DataFusion-python and PySpark, so every engine runs
identical Python over pyarrow arrays."""

import math

import pyarrow as pa
import pyarrow.compute as pc

import arbalest


def add_one(x):
    return pc.add(x, 1)


def haversine_km(lat1, lon1, lat2, lon2):
    rad = math.pi / 180
    dlat = pc.multiply(pc.subtract(lat2, lat1), rad / 2)
    dlon = pc.multiply(pc.subtract(lon2, lon1), rad / 2)
    a = pc.add(pc.power(pc.sin(dlat), 2),
               pc.multiply(pc.multiply(pc.cos(pc.multiply(lat1, rad)), pc.cos(pc.multiply(lat2, rad))),
                           pc.power(pc.sin(dlon), 2)))
    return pc.multiply(pc.asin(pc.sqrt(a)), 2 * 6371.0088)


py_add_one = arbalest.udf(args=[pa.int64()], returns=pa.int64(), name="py_add_one")(add_one)
py_haversine_km = arbalest.udf(args=[pa.float64()] * 4, returns=pa.float64(), name="py_haversine_km")(haversine_km)

if __name__ == "__main__":
    arbalest.serve(functions=[py_add_one, py_haversine_km], name="udfbench")
