import os
import subprocess
import sys
import tempfile
import textwrap
import types
import unittest

import helpers
import pyarrow as pa

import arbalest
from arbalest.plugin import load_plugin


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__file__ = f"/somewhere/{name}.py"
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


class Src(arbalest.DataSource):
    def schema(self, table):
        return pa.schema([("a", pa.int64())])


@arbalest.udf(args=[pa.int64()], returns=pa.int64())
def inc(x):
    return x


class Discover(unittest.TestCase):
    def test_functions_and_source(self):
        p = arbalest.discover(module("mine", inc=inc, src=Src()))
        self.assertEqual(p.name, "mine")
        self.assertEqual([f.name for f in p.functions], ["inc"])
        self.assertIsInstance(p.source, Src)
        self.assertEqual(p.extension_urn, "extension:plugin:mine")

    def test_plugin_object_wins(self):
        plugin = arbalest.Plugin("named", version="2", owner="io.acme", functions=[inc])
        p = arbalest.discover(module("m", inc=inc, plugin=plugin))
        self.assertIs(p, plugin)
        self.assertEqual(p.extension_urn, "extension:io.acme:named")

    def test_source_class_is_instantiated(self):
        Src2 = type("Src2", (Src,), {"__module__": "m2"})
        p = arbalest.discover(module("m2", Src2=Src2, Src=Src))  # Src is imported, not defined, here
        self.assertIsInstance(p.source, Src2)

    def test_errors(self):
        A = type("A", (Src,), {"__module__": "m3"})
        B = type("B", (Src,), {"__module__": "m3"})
        NeedsArgs = type("NeedsArgs", (Src,), {"__module__": "m4", "__init__": lambda self, dsn: None})
        cases = [
            (module("m1"), "declares no @arbalest.udf or @arbalest.udaf function and no arbalest.DataSource"),
            (module("m3", A=A, B=B), "defines data sources A, B; a plugin serves one"),
            (module("m4", NeedsArgs=NeedsArgs), r"NeedsArgs\(\) needs arguments"),
            (module("m5", a=Src(), b=Src()), "has 2 data source instances"),
            (module("m6", p=arbalest.Plugin("x", functions=[inc]), q=arbalest.Plugin("y", functions=[inc])),
             "defines 2 arbalest.Plugin objects"),
        ]
        for m, msg in cases:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(arbalest.PluginError, msg):
                    arbalest.discover(m)

    def test_plugin_errors(self):
        cases = [
            (lambda: arbalest.Plugin("a:b", functions=[inc]), "plugin name 'a:b' must be"),
            (lambda: arbalest.Plugin("p", owner="x y", functions=[inc]), "owner 'x y' must be"),
            (lambda: arbalest.Plugin("p", source=Src), r"source= takes an instance, got the class Src \(write source=Src\(\)\)"),
            (lambda: arbalest.Plugin("p", source=object()), "is not an arbalest.DataSource"),
            (lambda: arbalest.Plugin("p", functions=[len]), "is not a function declared with @arbalest.udf"),
            (lambda: arbalest.Plugin("p", functions=[inc, inc]), "two functions are named inc"),
            (lambda: arbalest.Plugin("p"), "plugin p has neither a data source nor functions"),
        ]
        for make, msg in cases:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(arbalest.PluginError, msg):
                    make()


class Files(unittest.TestCase):
    def test_examples(self):
        udfs = load_plugin(helpers.example("udfs.py"))
        self.assertEqual(udfs.name, "udfs")
        self.assertEqual([f.name for f in udfs.functions], ["haversine_km", "slug", "repeat_word", "geo_mean"])
        self.assertIsNone(udfs.source)
        src = load_plugin(helpers.example("datasource.py"))
        self.assertEqual((src.name, src.version, src.functions), ("numbers", "1.0.0", []))

    def test_sibling_imports_and_name(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "shared_helpers_xyz.py"), "w") as f:
                f.write("FACTOR = 3\n")
            path = os.path.join(d, "my-plugin.py")
            with open(path, "w") as f:
                f.write(textwrap.dedent("""
                    import pyarrow as pa, pyarrow.compute as pc
                    import arbalest
                    from shared_helpers_xyz import FACTOR

                    @arbalest.udf(args=[pa.int64()], returns=pa.int64())
                    def triple(x):
                        return pc.multiply(x, FACTOR)
                """))
            p = load_plugin(path)
            self.assertEqual(p.name, "my-plugin")
            self.assertEqual(p.functions[0](pa.array([2])).to_pylist(), [6])

    def test_describe(self):
        r = subprocess.run([sys.executable, "-m", "arbalest.plugin", helpers.example("udfs.py"), "--describe"],
                           env=helpers.plugin_env(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("aggregate function geo_mean(double) -> double [immutable]", out)
        self.assertIn('urn: "extension:plugin:udfs"', out)

    def test_broken_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "empty.py")
            open(path, "w").close()
            r = subprocess.run([sys.executable, "-m", "arbalest.plugin", path],
                               env=helpers.plugin_env(ARBALEST_PLUGIN="arbalest-plugin-v1"),
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stdout, b"")
            self.assertIn(b"nothing to serve", r.stderr)


class Verdicts(unittest.TestCase):
    def test_of(self):
        V = arbalest.Verdict
        self.assertEqual([V.of(x) for x in ("exact", "INEXACT", True, False, None, V.EXACT)],
                         [V.EXACT, V.INEXACT, V.EXACT, V.UNSUPPORTED, V.UNSUPPORTED, V.EXACT])
        with self.assertRaisesRegex(ValueError, "'maybe' is not a filter verdict"):
            V.of("maybe")


if __name__ == "__main__":
    unittest.main()
