# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/templating.py: the same results as ansible-core's templar, without copying the
variables per template and compiling each template text once (then from Jinja's bytecode cache).

Real components: ansible-core's Templar and TemplateEngine (2.19) and Jinja's FileSystemBytecodeCache
in a temporary folder; only counters are wrapped around ansible-core's own functions.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
from jinja2.bccache import FileSystemBytecodeCache

from ansible._internal._datatag._tags import Origin
from ansible._internal._templating import _engine, _lazy_containers
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils import templating

# Templates as ansible-core reads them from a file of this collection (tagged with their origin):
# only those are kept in the bytecode cache on disk.
OURS = Origin(path=os.path.join(templating._COLLECTION_ROOT, "roles", "airflow", "vars", "main.yml"), line_num=1)


def ours(text):
    return OURS.tag(trust_as_template(text))


# A play's worth of variables: many plain ones, and a few whose values are templates themselves.
FILLER = dict(("filler_%d" % index, "value %d" % index) for index in range(800))
VARIABLES = dict(FILLER, base=ours("{{ 'air' ~ 'flow' }}"), derived=ours("{{ base | upper }}-{{ base }}"), number=ours("{{ 40 + 2 }}"))
TEMPLATE = ours("{{ derived }} {{ base }} {{ number | int + 1 }} {{ derived | length }} {{ base }}")
EXPECTED = "AIRFLOW-airflow airflow 43 15 airflow"


@pytest.fixture(autouse=True)
def private_caches(tmp_path, monkeypatch):
    """Each test starts with empty caches: nothing compiled in memory, a bytecode folder of its own."""
    monkeypatch.setattr(templating, "_COMPILED", {})
    monkeypatch.setattr(templating, "_BYTECODE_CACHE", [FileSystemBytecodeCache(str(tmp_path), pattern="__airflow_k8s_cloud_%s.cache")])
    return tmp_path


@pytest.fixture()
def count_copies(monkeypatch):
    """Counts the lazy containers made from a mapping holding the whole FILLER (a copy of the play's variables)."""
    copies = []
    create = _lazy_containers._AnsibleLazyTemplateMixin._try_create

    def counting(item, *args, **kwargs):
        if isinstance(item, dict) and len(item) >= len(FILLER):
            copies.append(len(item))
        return create(item, *args, **kwargs)
    monkeypatch.setattr(_lazy_containers._AnsibleLazyTemplateMixin, "_try_create", staticmethod(counting))
    return copies


@pytest.fixture()
def count_compiles(monkeypatch):
    """Counts ansible-core's own template compilations."""
    compiled = []
    compile_template = _engine.TemplateEngine._compile_template

    def counting(self, template, options):
        compiled.append(str(template))
        return compile_template(self, template, options)
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_template", counting)
    return compiled


def test_renders_what_ansible_core_renders():
    plain = Templar(loader=DataLoader(), variables=VARIABLES)
    assert plain.template(TEMPLATE) == EXPECTED
    assert templating.templar_over(plain, VARIABLES).template(TEMPLATE) == EXPECTED


def test_layers_first_wins_and_own_variables_reach_nested_templates():
    plain = Templar(loader=DataLoader(), variables={})
    templar = templating.templar_over(plain, {"base": "own"}, VARIABLES)
    assert templar.template(trust_as_template("{{ derived }}")) == "OWN-own"


def test_the_variables_are_copied_once_not_per_nested_template(count_copies):
    """ansible-core copies all variables for the template and again for each variable that is a
    template (derived, base twice over, number); the templar here copies them once, up front."""
    Templar(loader=DataLoader(), variables=VARIABLES).template(TEMPLATE)
    assert len(count_copies) >= 4, "the baseline no longer copies per nested template: this test proves nothing"
    del count_copies[:]
    templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES).template(TEMPLATE)
    assert len(count_copies) == 1


def test_a_tasks_arguments_render_what_ansible_core_renders_copying_the_variables_once(count_copies):
    """engine_over_task_vars (the in-process actions' finalize_task_arg): every argument of one task
    renders over one copy of its variables, whatever each reads; another task's variables get theirs."""
    engine = Templar(loader=DataLoader(), variables=VARIABLES)._engine
    arguments = [TEMPLATE, ours("{{ derived }}"), ours("{{ [base, number] }}")]
    expected = [engine.template(argument) for argument in arguments]
    assert expected == [EXPECTED, "AIRFLOW-airflow", ["airflow", 42]]
    del count_copies[:]
    assert [templating.engine_over_task_vars(engine).template(argument) for argument in arguments] == expected
    assert len(count_copies) == 1
    other = Templar(loader=DataLoader(), variables=dict(VARIABLES, base="other"))._engine
    assert templating.engine_over_task_vars(other).template(ours("{{ derived }}")) == "OTHER-other"
    assert len(count_copies) == 2
    # The same engine with new variables (a loop's next item) gets a new copy of them.
    engine.available_variables = dict(VARIABLES, base="next")
    assert templating.engine_over_task_vars(engine).template(ours("{{ derived }}")) == "NEXT-next"
    assert len(count_copies) == 3


def test_each_template_text_compiles_once_per_process(count_compiles):
    first = templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES)
    assert first.template(TEMPLATE) == EXPECTED
    assert first.template(TEMPLATE) == EXPECTED
    # Another templar of the same process (the next template of the task) compiles nothing again.
    assert templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES).template(TEMPLATE) == EXPECTED
    # The cached path does not call ansible-core's compiler at all.
    assert count_compiles == []
    assert len(templating._COMPILED) == 4  # the template, derived, base, number


def test_a_new_process_loads_the_compiled_code_from_the_bytecode_cache(private_caches, monkeypatch):
    templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES).template(TEMPLATE)
    files = sorted(path.name for path in private_caches.iterdir())
    assert len(files) == 4 and all(name.startswith("__airflow_k8s_cloud_") for name in files)
    # A new process: nothing in memory. The code comes from the folder, Jinja's compiler is not called.
    monkeypatch.setattr(templating, "_COMPILED", {})
    compiles = []
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_template", lambda self, template, options: compiles.append(template))
    monkeypatch.setattr(type(Templar(loader=DataLoader())._engine.environment), "compile",
                        lambda *args, **kwargs: pytest.fail("compiled although the bytecode cache holds the code"))
    assert templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES).template(TEMPLATE) == EXPECTED
    assert compiles == []


def test_a_changed_template_is_compiled_anew():
    templar = templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES)
    assert templar.template(trust_as_template("{{ base }}!")) == "airflow!"
    assert templar.template(trust_as_template("{{ base }}?")) == "airflow?"


def test_a_broken_template_fails_as_ansible_core_reports_it():
    plain = Templar(loader=DataLoader(), variables=VARIABLES)
    broken = trust_as_template("{{ base ")
    with pytest.raises(Exception) as expected:
        plain.template(broken)
    with pytest.raises(type(expected.value)) as got:
        templating.templar_over(plain, VARIABLES).template(broken)
    assert str(got.value) == str(expected.value)


def test_without_a_private_folder_it_compiles_in_memory(monkeypatch):
    monkeypatch.setattr(templating, "_BYTECODE_CACHE", [None])
    assert templating.templar_over(Templar(loader=DataLoader(), variables={}), VARIABLES).template(TEMPLATE) == EXPECTED


@pytest.fixture()
def installed(monkeypatch):
    """install_compile_cache() for this test only: ansible-core's two compile functions restored afterwards."""
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_template", _engine.TemplateEngine._compile_template)
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_expression", _engine.TemplateEngine._compile_expression)
    templating.install_compile_cache()
    templating.install_compile_cache()  # idempotent: wraps once


CONDITIONALS = [("number | int > 41", True), ("base == 'airflow' and derived is match('AIR')", True),
                ("'x\\\\y' | length == 3", True), ("filler_1 in ['value 2']", False)]


def test_installed_every_engine_renders_what_ansible_core_renders_and_compiles_each_text_once(installed, monkeypatch):
    """After install_compile_cache(), a plain Templar (as a task's) compiles through the cache: the same
    results, templates and conditionals compiled once per process, then loaded from the bytecode cache."""
    assert getattr(_engine.TemplateEngine._compile_template, "airflow_k8s_cloud_cache", False)
    plain = Templar(loader=DataLoader(), variables=VARIABLES)
    assert plain.template(TEMPLATE) == EXPECTED
    assert [plain.evaluate_conditional(ours(case[0])) for case in CONDITIONALS] == [case[1] for case in CONDITIONALS]
    compiled = len(templating._COMPILED)
    assert compiled == 4 + len(CONDITIONALS)
    # A new process: nothing in memory; Jinja's compiler must not run, the code comes from the folder.
    monkeypatch.setattr(templating, "_COMPILED", {})
    monkeypatch.setattr(type(plain._engine.environment), "compile",
                        lambda *args, **kwargs: pytest.fail("compiled although the bytecode cache holds the code"))
    again = Templar(loader=DataLoader(), variables=VARIABLES)
    assert again.template(TEMPLATE) == EXPECTED
    assert [again.evaluate_conditional(ours(case[0])) for case in CONDITIONALS] == [case[1] for case in CONDITIONALS]
    assert len(templating._COMPILED) == compiled


@pytest.mark.parametrize("broken", ["number >", "base base", "undefined_variable_xyz > 1"])
def test_installed_a_broken_conditional_fails_as_ansible_core_reports_it(broken, monkeypatch):
    plain = Templar(loader=DataLoader(), variables=VARIABLES)
    with pytest.raises(Exception) as expected:
        plain.evaluate_conditional(trust_as_template(broken))
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_template", _engine.TemplateEngine._compile_template)
    monkeypatch.setattr(_engine.TemplateEngine, "_compile_expression", _engine.TemplateEngine._compile_expression)
    templating.install_compile_cache()
    with pytest.raises(type(expected.value)) as got:
        Templar(loader=DataLoader(), variables=VARIABLES).evaluate_conditional(trust_as_template(broken))
    assert str(got.value) == str(expected.value)


def test_only_the_collections_own_templates_are_kept_on_disk(private_caches, installed):
    """A template from elsewhere (an inventory value, another collection's task: it could hold a secret as
    a literal) compiles once per process in memory, and never reaches the bytecode folder."""
    elsewhere = Origin(path="/srv/inventories/prod/group_vars/all.yml", line_num=3).tag(trust_as_template("{{ 'hunter' ~ '2' }}"))
    plain = Templar(loader=DataLoader(), variables={})
    assert plain.template(elsewhere) == "hunter2"
    assert plain.template(trust_as_template("{{ 'no' ~ 'origin' }}")) == "noorigin"
    assert list(private_caches.iterdir()) == []
    assert len(templating._COMPILED) == 2
    assert plain.template(ours("{{ 'own' }}")) == "own"
    assert len(list(private_caches.iterdir())) == 1


WARM_CHECK = r"""
import sys
from ansible.plugins.loader import filter_loader, init_plugin_loader, test_loader
init_plugin_loader([sys.argv[1]])
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils import templating
before = set(sys.modules)
templating.warm_plugins()
loaded = set(sys.modules) - before
prefix = "ansible_collections.airflow_k8s.cloud.plugins."
print(len(filter_loader._cached_non_collection_wrappers), len(test_loader._cached_non_collection_wrappers))
print(" ".join(sorted(name[len(prefix):] for name in loaded if name.startswith(prefix))))
"""


def test_warm_plugins_loads_what_the_workers_would_each_load(tmp_path):
    """In a fresh process with ansible-core's plugin loader (what the controller's main process has when
    the preflight's action plugin is imported): ansible-core's filters and tests are wrapped and every
    filter, test and lookup file of this collection is imported, so that the forked workers inherit
    them; and nothing is printed (no warning for a plugin that resolves)."""
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    collections_path = os.path.dirname(os.path.dirname(os.path.dirname(templating._COLLECTION_ROOT)))
    run = subprocess.run([sys.executable, "-c", WARM_CHECK, collections_path], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    wrapped, imported = run.stdout.splitlines()
    filters, tests = (int(count) for count in wrapped.split())
    assert filters > 50 and tests > 20, wrapped
    ours = set(imported.split())
    expected = set("%s.%s" % (kind, entry[:-3]) for kind in ("filter", "test", "lookup")
                   for entry in os.listdir(os.path.join(templating._COLLECTION_ROOT, "plugins", kind)) if entry.endswith(".py"))
    assert expected <= ours, sorted(expected - ours)
