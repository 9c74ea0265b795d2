"""A plugin: a name, a data source and functions, served to the host."""

from __future__ import annotations

import os
import re
import sys
import types
from typing import Iterable, Optional, Sequence

from . import functions as _functions
from .functions import Function, FunctionError
from .source import DataSource

__all__ = ["Plugin", "serve", "discover", "PluginError"]

# Plugin names and owners are parts of a URN (extension:<owner>:<name>).
_URN_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class PluginError(Exception):
    """A plugin is put together wrongly (the message says how)."""


class Plugin:
    """What a plugin provides.

    name: the plugin's name (the STORED AS name of its tables, and the last
    part of its function extension's URN ``extension:<owner>:<name>``);
    version: for messages and EXPLAIN; source: a DataSource instance;
    functions: functions declared with @udf and @udaf.
    """

    def __init__(self, name: str, *, version: str = "0.0.0", owner: str = "plugin",
                 source: Optional[DataSource] = None, functions: Iterable[Function] = ()):
        if not isinstance(name, str) or not _URN_PART.match(name):
            raise PluginError(f"plugin name {name!r} must be letters, digits, '_', '.' or '-'")
        if not isinstance(owner, str) or not _URN_PART.match(owner):
            raise PluginError(f"plugin {name}: owner {owner!r} must be letters, digits, '_', '.' or '-'")
        if isinstance(source, type):
            raise PluginError(f"plugin {name}: source= takes an instance, got the class {source.__name__} "
                              f"(write source={source.__name__}())")
        if source is not None and not isinstance(source, DataSource):
            raise PluginError(f"plugin {name}: source {source!r} is not an arbalest.DataSource")
        fns = list(functions)
        seen: dict[str, Function] = {}
        for f in fns:
            if not isinstance(f, Function):
                raise PluginError(f"plugin {name}: {f!r} is not a function declared with @arbalest.udf "
                                  f"or @arbalest.udaf")
            if f.name in seen:
                raise PluginError(f"plugin {name}: two functions are named {f.name}")
            seen[f.name] = f
        if source is None and not fns:
            raise PluginError(f"plugin {name} has neither a data source nor functions")
        self.name = name
        self.version = str(version)
        self.owner = owner
        self.source = source
        self.functions: list[Function] = fns

    @property
    def extension_urn(self) -> str:
        return _functions.extension_urn(self.owner, self.name)

    @property
    def extension_yaml(self) -> str:
        return _functions.extension_yaml(self.extension_urn, self.functions) if self.functions else ""

    def describe(self) -> str:
        """A summary for people: the source, the functions and the YAML."""
        lines = [f"plugin {self.name} {self.version}"]
        if self.source is not None:
            s = self.source
            caps = [c for c in ("projection", "filters", "limit", "splits") if getattr(s, c)]
            lines.append(f"data source {s} (pushdown: {', '.join(caps) or 'none'})")
        for f in self.functions:
            lines.append(f"{f.kind} function {f.signature()} [{f.volatility}]")
        if self.functions:
            lines += ["", self.extension_yaml.rstrip("\n")]
        return "\n".join(lines)

    def serve(self) -> None:
        """Serves the plugin to the host that started this process; returns
        only by exiting the process."""
        from . import _goplugin, _service

        services = _service.PluginServices(self)
        _goplugin.serve(lambda server: _service.add_to_server(services, server), self.name)

    def __repr__(self) -> str:
        return f"<arbalest.Plugin {self.name} source={self.source} functions={[f.name for f in self.functions]}>"


def discover(module: types.ModuleType, name: Optional[str] = None) -> Plugin:
    """The plugin a module describes: a module-level arbalest.Plugin if it
    has one; otherwise its functions (declared in it with @udf/@udaf, or
    imported into it) and its data source (a DataSource instance at module
    level, or else the one DataSource subclass defined in it, made without
    arguments), under name (default: the module's file name)."""
    g = vars(module)
    plugins = [v for v in g.values() if isinstance(v, Plugin)]
    if len(plugins) > 1:
        raise PluginError(f"{_where(module)} defines {len(plugins)} arbalest.Plugin objects; keep one")
    if plugins:
        return plugins[0]
    fns: list[Function] = []
    for f in _functions.registered_functions(module.__name__) + [v for v in g.values() if isinstance(v, Function)]:
        if all(f is not x for x in fns):
            fns.append(f)
    sources = [v for v in g.values() if isinstance(v, DataSource)]
    if not sources:
        classes = [v for v in g.values() if isinstance(v, type) and issubclass(v, DataSource)
                   and v is not DataSource and v.__module__ == module.__name__]
        if len(classes) > 1:
            raise PluginError(f"{_where(module)} defines data sources {', '.join(c.__name__ for c in classes)}; "
                              f"a plugin serves one (make an instance at module level, or an arbalest.Plugin)")
        for c in classes:
            try:
                sources.append(c())
            except TypeError as e:
                raise PluginError(f"{_where(module)}: {c.__name__}() needs arguments ({e}); make an instance "
                                  f"at module level") from None
    if len(sources) > 1:
        raise PluginError(f"{_where(module)} has {len(sources)} data source instances; a plugin serves one")
    if name is None:
        name = _default_name(module)
    if not fns and not sources:
        raise PluginError(f"{_where(module)} declares no @arbalest.udf or @arbalest.udaf function and no "
                          f"arbalest.DataSource: nothing to serve")
    try:
        return Plugin(name, source=sources[0] if sources else None, functions=fns)
    except PluginError:
        raise
    except FunctionError as e:
        raise PluginError(str(e)) from None


def _default_name(module: types.ModuleType) -> str:
    f = getattr(module, "__file__", None)
    if f:
        stem = os.path.splitext(os.path.basename(f))[0]
        return re.sub(r"[^A-Za-z0-9_.\-]", "_", stem)
    return module.__name__.rsplit(".", 1)[-1]


def _where(module: types.ModuleType) -> str:
    return getattr(module, "__file__", None) or module.__name__


def serve(plugin: Optional[Plugin] = None, *, name: Optional[str] = None, version: str = "0.0.0",
          owner: str = "plugin", source: Optional[DataSource] = None,
          functions: Optional[Sequence[Function]] = None) -> None:
    """Serves a plugin to the Arbalest host that started this process (call
    it at the bottom of the plugin file, under ``if __name__ ==
    "__main__":``); returns only by exiting the process.

    With no arguments it serves what the calling module declares (see
    discover). Otherwise: name (default: the file's name), source, functions
    (default: those declared in the calling module), version, owner; or a
    ready Plugin.
    """
    try:
        if plugin is None:
            caller = sys.modules.get(sys._getframe(1).f_globals.get("__name__", "__main__"))
            if source is None and functions is None and caller is not None:
                plugin = discover(caller, name)
                plugin.version, plugin.owner = str(version), owner
                if not _URN_PART.match(owner):
                    raise PluginError(f"plugin {plugin.name}: owner {owner!r} must be letters, digits, '_', "
                                      f"'.' or '-'")
            else:
                if functions is None:
                    functions = _functions.registered_functions(caller.__name__ if caller else None)
                plugin = Plugin(name or (_default_name(caller) if caller else "plugin"), version=version,
                                owner=owner, source=source, functions=functions)
        elif not isinstance(plugin, Plugin):
            raise PluginError(f"serve() takes an arbalest.Plugin, got {plugin!r}")
    except (PluginError, FunctionError) as e:
        sys.stderr.write(f"arbalest: {e}\n")
        sys.exit(1)
    plugin.serve()
