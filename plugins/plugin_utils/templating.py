# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A templar for the collection's controller plugins that renders the run's many templates cheaply.

The manifests lookup renders every object template of a run, and the preflight templates hundreds
of rules, over the same ~1,000 variables (every role's defaults). Profiling such a run on
ansible-core 2.19 showed two costs that grow with every template rendered, neither of which is
rendering itself:

* **Copying the variables.** The Jinja context wraps each plain ``dict`` layer of the variables in a
  new lazy container (a copy of every variable) for each template it renders, and it renders one
  for every variable whose value is itself a template. Here the layers are wrapped once, under a
  template context whose templar holds these very layers, so a nested variable renders against
  them without copying anything, and renders once. The collection's in-process action plugins
  (render_manifests, k8s_apply and the others) render their task's arguments the same way
  (:func:`engine_over_task_vars`): the arguments of the sink's write step are every object of the
  run, and rendering them the ordinary way took a third of a render.
* **Compiling templates.** ansible-core compiles a template (Jinja's parser and code generator, then
  Python's ``compile``) every time it renders one: ``{{ airflow_uid | int }}`` read by five
  templates of a task was compiled five times, and the workload model's template (workload.yml.j2)
  once in each of the five tasks that use it, about 30 ms each. Here each template text compiles
  once per process, and its compiled code is kept in Jinja's own bytecode cache
  (:class:`jinja2.FileSystemBytecodeCache`: a folder private to the user, in the system's temporary
  folder), so the next task and the next run load it in a fraction of a millisecond. The cache key
  is the template text with every setting that changes the generated code (the ansible-core and
  Jinja versions, the environment's syntax settings and extensions, backslash escaping); Jinja
  checks its own and Python's bytecode versions.

The same cache serves every template engine of the run once :func:`install_compile_cache` ran
(the preflight's action plugin calls it when the controller imports it, before the first worker
is forked): ansible-core renders each role variable that is a template, and each conditional
(``when``, ``assert``), by compiling it, in every worker process anew; a profile of a render
showed about half of the workers' CPU time in Jinja's compiler.
Only templates read from this collection's own files go to the cache on disk (:func:`_ours`).

Controller side only (lookup and action plugins). It uses ansible-core's internal templating
modules (pinned by requirements.txt: ansible-core 2.19); a template with overrides in its header
or a debugging environment compiles the ordinary way.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import weakref
from collections import ChainMap

from jinja2 import __version__ as jinja2_version, nodes
from jinja2.bccache import FileSystemBytecodeCache
from jinja2.environment import TemplateExpression
from jinja2.parser import Parser

from ansible import __version__ as ansible_core_version
from ansible._internal._templating._engine import TemplateEngine, TemplateOptions
from ansible._internal._templating._jinja_bits import AnsibleTemplateExpression, TemplateOverrides, _TemplateCompileContext
from ansible._internal._templating._lazy_containers import _AnsibleLazyTemplateMixin, lazify_container
from ansible._internal._templating._utils import TemplateContext
from ansible._internal._datatag._tags import Origin
from ansible.plugins.loader import filter_loader, lookup_loader, test_loader

# Compiled templates of this process, by cache key.
_COMPILED = {}
_BYTECODE_CACHE = []


def _bytecode_cache():
    if not _BYTECODE_CACHE:
        try:
            _BYTECODE_CACHE.append(FileSystemBytecodeCache(pattern="__airflow_k8s_cloud_%s.cache"))
        except (OSError, RuntimeError):  # no private temporary folder: compile in memory only
            _BYTECODE_CACHE.append(None)
    return _BYTECODE_CACHE[0]


# The collection's own files (roles, templates): only templates read from them are kept on disk.
_COLLECTION_ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def _ours(template):
    """Whether ``template`` was read from a file of this collection (ansible-core tags every string it
    reads with its origin). Only those go to the bytecode cache on disk: a template from an inventory,
    a playbook or another collection, which could hold a secret as a literal, compiles in memory only."""
    path = getattr(Origin.get_tag(template), "path", None)
    if not path:
        return False
    found = _OURS.get(path)
    if found is None:
        found = _OURS[path] = os.path.realpath(path).startswith(_COLLECTION_ROOT + os.sep)
    return found


# Whether a file is this collection's, by the path ansible-core read it from (a few dozen files a run).
_OURS = {}


def _code_name(value):
    """A setting that may be a function, by the function's name (its address changes with every process)."""
    return "%s.%s" % (value.__module__, value.__qualname__) if callable(value) else repr(value)


def _environment_key(env):
    """What of the environment changes the code Jinja generates for a template."""
    settings = (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
                env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
                env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
                sorted(env.extensions), type(env).__module__, type(env).__qualname__, ansible_core_version, jinja2_version,
                env.optimized, env.is_async, _code_name(env.finalize), _code_name(env.autoescape))
    return repr(settings)


def _code(env, name, source, generate):
    """The compiled code of ``source`` (cache key ``name``): from the bytecode cache if the source is this
    collection's own (:func:`_ours`) and was compiled before, else ``generate()``, stored for next time."""
    cache = _bytecode_cache() if _ours(source) else None
    bucket = cache.get_bucket(env, name, None, str(source)) if cache else None
    if bucket is not None and bucket.code is not None:
        return bucket.code
    code = generate()
    if bucket is not None:
        bucket.code = code
        cache.set_bucket(bucket)
    return code


def _cached_compile(engine, template, options, compile_template):
    """``compile_template(template, options)`` (ansible-core's), once per template text per process, through
    Jinja's bytecode cache: the cached code of an identical text compiled under the same settings."""
    env = engine.environment
    if options.overrides is not TemplateOverrides.DEFAULT or getattr(env, "_debuggable_template_source", False):
        return compile_template(template, options)
    text = str(template)
    name = hashlib.sha256(("%s\n%s\n%s" % (_env_key(env), options.escape_backslashes, text)).encode("utf-8")).hexdigest()
    found = _COMPILED.get(name)
    if found is not None:
        return found
    try:
        stripped, overlay = engine._create_overlay(template, options.overrides)
        if overlay is not env:  # overrides in the template's header
            return compile_template(template, options)

        def generate():
            with _TemplateCompileContext(escape_backslashes=options.escape_backslashes):
                return env.compile(stripped)
        result = env.template_class.from_code(env, _code(env, name, template, generate), env.make_globals(None), None)
    except Exception:  # pylint: disable=broad-except
        # ansible-core's own path reports a broken template with its origin, when it is rendered.
        return compile_template(template, options)
    _COMPILED[name] = result
    return result


def _env_key(env):
    key = env.__dict__.get("_airflow_k8s_cloud_key")
    if key is None:
        key = env.__dict__["_airflow_k8s_cloud_key"] = _environment_key(env)
    return key


def _cached_expression(engine, expression, options, compile_expression):
    """``compile_expression(expression, options)`` (ansible-core's, for conditionals such as ``when``
    and ``assert``), once per expression per process, through the bytecode cache. The code is what
    Jinja's ``Environment.compile_expression`` generates: the expression assigned to ``result``."""
    env = engine.environment
    if getattr(env, "_debuggable_template_source", False):
        return compile_expression(expression, options)
    text = str(expression)
    name = hashlib.sha256(("expression\n%s\n%s\n%s" % (_env_key(env), options.escape_backslashes, text)).encode("utf-8")).hexdigest()
    found = _COMPILED.get(name)
    if found is not None:
        return found
    try:

        def generate():
            with _TemplateCompileContext(escape_backslashes=options.escape_backslashes):
                parser = Parser(env, text, state="variable")
                expr = parser.parse_expression()
                if not parser.stream.eos:
                    raise ValueError("chunk after expression")
                expr.set_environment(env)
                return env.compile(nodes.Template([nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)], lineno=1))
        template = env.template_class.from_code(env, _code(env, name, expression, generate), env.make_globals(None), None)
        result = AnsibleTemplateExpression(TemplateExpression(template, False))
    except Exception:  # pylint: disable=broad-except
        # ansible-core's own path reports a broken expression as it always does.
        return compile_expression(expression, options)
    _COMPILED[name] = result
    return result


def _compile_once(engine):
    """Make ``engine`` compile each template text once per process, through the bytecode cache."""
    compile_template = engine._compile_template
    engine._compile_template = lambda template, options: _cached_compile(engine, template, options, compile_template)


def install_compile_cache():
    """Make every template engine of this process, and of the worker processes it forks from now on,
    compile through the cache (ansible-core's ``TemplateEngine._compile_template``, wrapped).

    Called when the preflight's action plugin is imported: the linear strategy imports the action
    plugin of every task in the controller's main process, before it forks the worker that runs the
    task, so the first task of site.yml installs it for the whole run. Without it each worker
    process compiled every variable expression it rendered (the roles' defaults and vars are
    templates): about half of the CPU time of a render. Idempotent; the code it produces for a
    template is the code ansible-core's own compile produces (same environment, same text)."""
    original = TemplateEngine._compile_template
    if getattr(original, "airflow_k8s_cloud_cache", False):
        return
    original_expression = TemplateEngine._compile_expression

    def compile_template(self, template, options):
        return _cached_compile(self, template, options, lambda template, options: original(self, template, options))

    def compile_expression(self, expression, options):
        return _cached_expression(self, expression, options, lambda expression, options: original_expression(self, expression, options))

    compile_template.airflow_k8s_cloud_cache = True
    TemplateEngine._compile_template = compile_template
    TemplateEngine._compile_expression = compile_expression


#: Jinja plugins (and lookups) the roles use on every run, by one name of each plugin file.
WARM_PLUGINS = {
    "filter": ("ansible.builtin.to_json", "ansible.builtin.urlsplit", "ansible.builtin.max", "ansible.builtin.b64encode"),
    "test": ("ansible.builtin.match", "ansible.builtin.subset", "ansible.builtin.url"),
    "lookup": ("ansible.builtin.vars", "ansible.builtin.varnames", "ansible.builtin.password", "ansible.builtin.file",
               "ansible.builtin.env"),
}


def warm_plugins():
    """Load, in this process, the Jinja plugins and lookups every run uses: ansible-core's (whose
    loader scans and wraps every ansible-core filter or test file the first time any is asked for)
    and all of this collection's. Called where :func:`install_compile_cache` is, in the controller's
    main process before the first fork, so the worker processes inherit them loaded: otherwise each
    worker that renders a template loaded them again (about a sixth of the workers' CPU time in a
    render). Only plugins ansible-core would load anyway on the first template are loaded; a name
    that does not resolve is skipped, as the first template using it would fail the same way."""
    loaders = {"filter": filter_loader, "test": test_loader, "lookup": lookup_loader}
    names = dict((kind, list(WARM_PLUGINS[kind])) for kind in WARM_PLUGINS)
    root = os.path.join(_COLLECTION_ROOT, "plugins")
    for kind, holder, method in (("filter", "FilterModule", "filters"), ("test", "TestModule", "tests"), ("lookup", None, None)):
        folder = os.path.join(root, kind)
        for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if not entry.endswith(".py") or entry.startswith("_"):
                continue
            if holder is None:  # a lookup is named after its file
                names[kind].append("airflow_k8s.cloud.%s" % entry[:-3])
                continue
            try:  # a filter or test file holds several, under their own names: one of them loads the file
                module = importlib.import_module("ansible_collections.airflow_k8s.cloud.plugins.%s.%s" % (kind, entry[:-3]))
                names[kind].append("airflow_k8s.cloud.%s" % sorted(getattr(getattr(module, holder)(), method)())[0])
            except Exception:  # pylint: disable=broad-except
                continue  # loaded (and any error reported) by the first template that uses it, as without this
    for kind, plugin_names in names.items():
        for name in plugin_names:
            try:
                if kind == "lookup":
                    loaders[kind].get(name, class_only=True)
                else:
                    loaders[kind].get_with_context(name)
            except Exception:  # pylint: disable=broad-except
                # Not warmed: the first template that uses it loads it (and reports any error) as without this.
                continue


def _flat(layers):
    for layer in layers:
        if isinstance(layer, ChainMap):
            yield from _flat(layer.maps)
        elif layer:
            yield layer


def _lazy_layers(engine, layers):
    """``layers`` (mappings, first wins) as one ChainMap whose plain layers are wrapped for lazy
    templating once, in a template context of ``engine``: lazy containers remember the templar of
    the context they were made in and render their values with it."""
    stack = ChainMap()
    with TemplateContext(template_value=None, templar=engine, options=TemplateOptions.DEFAULT):
        stack.maps[:] = [layer if isinstance(layer, _AnsibleLazyTemplateMixin) else lazify_container(dict(layer))
                         for layer in _flat(layers)]
    return stack


_TASK_ENGINES = weakref.WeakKeyDictionary()


def engine_over_task_vars(engine):
    """A copy of a task's template engine whose variables are wrapped for lazy templating once (and
    kept for every argument of the task), for an action plugin's ``finalize_task_arg``.

    ansible-core renders a task's arguments over its variables as a plain ``dict``, which the Jinja
    context copies into a new lazy container for each template it renders: once more for every
    variable that is itself a template (every role variable of a component's objects), and it renders
    such a variable again wherever another template reads it. Here the copy is made once, and a
    variable rendered once in this task's arguments is not rendered again.
    """
    variables = engine.available_variables
    cached = _TASK_ENGINES.get(engine)
    if cached is not None and cached[0] is variables:
        return cached[1]
    copy = engine.copy()
    _compile_once(copy)
    copy.available_variables = _lazy_layers(copy, [variables])
    _TASK_ENGINES[engine] = (variables, copy)
    return copy


def templar_over(templar, *layers, searchpath=None):
    """A copy of ``templar`` over ``layers`` (mappings, first wins), each wrapped for lazy templating
    once, compiling each template once.

    A layer that is already lazy (the variables a nested lookup receives from a template this
    function prepared) is kept as it is: copying it would render every one of its values.
    """
    copy = templar.copy_with_new_env(searchpath=searchpath)
    _compile_once(copy._engine)
    copy.available_variables = _lazy_layers(copy._engine, layers)
    return copy
