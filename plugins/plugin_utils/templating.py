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
  them without copying anything.
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

Controller side only (lookup and action plugins). It uses ansible-core's internal templating
modules (pinned by requirements.txt: ansible-core 2.19); a template with overrides in its header
or a debugging environment compiles the ordinary way.
"""

from __future__ import annotations

import hashlib
from collections import ChainMap

from jinja2.bccache import FileSystemBytecodeCache

from ansible import __version__ as ansible_core_version
from ansible._internal._templating._engine import TemplateOptions
from ansible._internal._templating._jinja_bits import TemplateOverrides, _TemplateCompileContext
from ansible._internal._templating._lazy_containers import _AnsibleLazyTemplateMixin, lazify_container
from ansible._internal._templating._utils import TemplateContext

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


def _environment_key(env):
    """What of the environment changes the code Jinja generates for a template."""
    settings = (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
                env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
                env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
                sorted(env.extensions), type(env).__module__, type(env).__qualname__, ansible_core_version)
    return repr(settings)


def _compile_once(engine):
    """Make ``engine`` compile each template text once per process, through the bytecode cache."""
    compile_template = engine._compile_template
    env = engine.environment
    # What of the environment changes the generated code: the same for every template of this engine.
    env_key = _environment_key(env)

    def compiled(template, options):
        if options.overrides is not TemplateOverrides.DEFAULT or getattr(env, "_debuggable_template_source", False):
            return compile_template(template, options)
        text = str(template)
        name = hashlib.sha256(("%s\n%s\n%s" % (env_key, options.escape_backslashes, text)).encode("utf-8")).hexdigest()
        found = _COMPILED.get(name)
        if found is not None:
            return found
        try:
            stripped, overlay = engine._create_overlay(template, options.overrides)
            if overlay is not env:  # overrides in the template's header
                return compile_template(template, options)
            cache = _bytecode_cache()
            bucket = cache.get_bucket(env, name, None, text) if cache else None
            if bucket is None or bucket.code is None:
                with _TemplateCompileContext(escape_backslashes=options.escape_backslashes):
                    code = env.compile(stripped)
                if bucket is not None:
                    bucket.code = code
                    cache.set_bucket(bucket)
            else:
                code = bucket.code
            result = env.template_class.from_code(env, code, env.make_globals(None), None)
        except Exception:  # pylint: disable=broad-except
            # ansible-core's own path reports a broken template with its origin, when it is rendered.
            return compile_template(template, options)
        _COMPILED[name] = result
        return result

    engine._compile_template = compiled


def _flat(layers):
    for layer in layers:
        if isinstance(layer, ChainMap):
            yield from _flat(layer.maps)
        elif layer:
            yield layer


def templar_over(templar, *layers, searchpath=None):
    """A copy of ``templar`` over ``layers`` (mappings, first wins), each wrapped for lazy templating
    once, compiling each template once.

    A layer that is already lazy (the variables a nested lookup receives from a template this
    function prepared) is kept as it is: copying it would render every one of its values.
    """
    stack = ChainMap()
    copy = templar.copy_with_new_env(available_variables=stack, searchpath=searchpath)
    _compile_once(copy._engine)
    # Lazy containers remember the templar of the context they were made in, and render their
    # values with it: make them in a context whose templar reads these same layers.
    with TemplateContext(template_value=None, templar=copy._engine, options=TemplateOptions.DEFAULT):
        stack.maps[:] = [layer if isinstance(layer, _AnsibleLazyTemplateMixin) else lazify_container(dict(layer))
                         for layer in _flat(layers)]
    return copy
