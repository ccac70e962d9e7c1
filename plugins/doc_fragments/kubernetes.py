# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """What the airflow_k8s.cloud modules that talk to the Kubernetes API share (plugins/module_utils/k8s_client.py):
    their requirements and where they run. Their connection options are kubernetes.core.k8s_auth_options."""

    DOCUMENTATION = r"""
requirements:
  - kubernetes >= 24.2.0
  - the kubernetes.core collection (3.0 or later)
attributes:
  platform:
    support: full
    platforms: posix
    description:
      - Talks to the Kubernetes API from the host it runs on, normally the controller.
      - On a local connection (without C(become) or a task C(environment)) its action plugin runs the
        module's code in the controller process, with the Kubernetes client imported once per run.
"""
