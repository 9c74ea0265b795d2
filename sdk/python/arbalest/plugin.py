"""Runs a Python file as an Arbalest plugin: ``python -m arbalest.plugin FILE``.

The file is imported (not run as __main__) and everything it declares is
served: its @arbalest.udf and @arbalest.udaf functions and its data source,
or the arbalest.Plugin it defines (see arbalest.discover). This is the
command the host runs for a Python plugin; ``--describe`` prints what the
file provides, and the extension YAML, without serving.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import types

from .functions import FunctionError, forget_module
from .server import Plugin, PluginError, discover


def load_file(path: str) -> types.ModuleType:
    """Imports the Python file at path as a module (its directory first on
    sys.path, as when running it)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise PluginError(f"{path}: no such file")
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    # A name of our own: the file's stem could shadow an installed module.
    module_name = f"arbalest_plugin_{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Loading a file again replaces what it declared the first time.
    forget_module(module_name)
    sys.modules[module_name] = module
    sys.path.insert(0, os.path.dirname(path))
    spec.loader.exec_module(module)
    return module


def load_plugin(path: str, name: str | None = None) -> Plugin:
    module = load_file(path)
    if name is None:
        name = re.sub(r"[^A-Za-z0-9_.\-]", "_", os.path.splitext(os.path.basename(path))[0])
    return discover(module, name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m arbalest.plugin",
                                description="Serve a Python file's functions and data source as an Arbalest plugin.")
    p.add_argument("file", help="the plugin's Python file")
    p.add_argument("--name", help="the plugin's name (default: the file's name)")
    p.add_argument("--describe", action="store_true",
                   help="print what the file provides and its extension YAML, then exit")
    args = p.parse_args(argv)
    try:
        plugin = load_plugin(args.file, args.name)
    except (PluginError, FunctionError) as e:
        sys.stderr.write(f"arbalest: {e}\n")
        return 1
    if args.describe:
        print(plugin.describe())
        return 0
    plugin.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
