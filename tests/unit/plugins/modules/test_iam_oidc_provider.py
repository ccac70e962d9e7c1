# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.iam_oidc_provider`` module.

Real components: the module runs unmodified through ansible-core's ``AnsibleModule`` (``run_module``)
and talks HTTP with real boto3 to moto in server mode on 127.0.0.1 (tests/support/moto_server.py), whose
IAM implements the OpenID Connect provider APIs. Proven: the requests, check mode, idempotence and that an
existing provider's other settings are left alone; not how real IAM validates issuers.
"""

from __future__ import annotations

from ansible_collections.airflow_k8s.cloud.plugins.modules import iam_oidc_provider
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.aws_fixtures import (  # noqa: F401  pylint: disable=unused-import
    aws,
    moto_url,
)
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
BARE = ISSUER[len("https://"):]


def _providers(aws):  # pylint: disable=redefined-outer-name
    iam = aws.client("iam")
    return {entry["Arn"]: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
            for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]}


def test_check_mode_reports_a_missing_provider_and_creates_nothing(aws):  # pylint: disable=redefined-outer-name
    result, failed = run_module(iam_oidc_provider, dict(aws.args, url=ISSUER), check_mode=True)
    assert not failed, result
    assert (result["changed"], result["exists"]) == (True, False)
    assert result["provider"]["url"] == BARE
    assert _providers(aws) == {}


def test_create_then_a_second_run_changes_nothing(aws):  # pylint: disable=redefined-outer-name
    args = dict(aws.args, url=ISSUER, tags={"airflow-k8s.cloud/environment": "prod"})
    result, failed = run_module(iam_oidc_provider, args)
    assert not failed, result
    assert (result["changed"], result["exists"]) == (True, False)
    [(arn, provider)] = _providers(aws).items()
    assert arn == "arn:aws:iam::123456789012:oidc-provider/" + BARE == result["provider"]["arn"]
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["Tags"] == [{"Key": "airflow-k8s.cloud/environment", "Value": "prod"}]
    again, failed = run_module(iam_oidc_provider, dict(args, url=BARE + "/"))
    assert not failed, again
    assert (again["changed"], again["exists"]) == (False, True)
    checked, failed = run_module(iam_oidc_provider, dict(aws.args, url=ISSUER), check_mode=True)
    assert not failed and checked["changed"] is False


def test_an_existing_provider_is_reported_and_never_changed(aws):  # pylint: disable=redefined-outer-name
    """A provider someone else made (another audience, a thumbprint, their tags) is left as it is; its
    audiences are reported, so that the caller can say that IRSA's sts.amazonaws.com is missing."""
    iam = aws.client("iam")
    arn = iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["other-audience"], ThumbprintList=["a" * 40],
                                              Tags=[{"Key": "owner", "Value": "eksctl"}])["OpenIDConnectProviderArn"]
    result, failed = run_module(iam_oidc_provider, dict(aws.args, url=ISSUER, tags={"mine": "no"}))
    assert not failed, result
    assert (result["changed"], result["exists"]) == (False, True)
    assert result["provider"]["client_ids"] == ["other-audience"]
    provider = _providers(aws)[arn]
    assert provider["ClientIDList"] == ["other-audience"]
    assert provider["ThumbprintList"] == ["a" * 40]
    assert provider["Tags"] == [{"Key": "owner", "Value": "eksctl"}]


def test_absent_deletes_it(aws):  # pylint: disable=redefined-outer-name
    aws.client("iam").create_open_id_connect_provider(Url=ISSUER, ClientIDList=["sts.amazonaws.com"])
    result, failed = run_module(iam_oidc_provider, dict(aws.args, url=ISSUER, state="absent"))
    assert not failed and result["changed"] is True, result
    assert _providers(aws) == {}
    again, failed = run_module(iam_oidc_provider, dict(aws.args, url=ISSUER, state="absent"))
    assert not failed and again["changed"] is False


def test_a_url_without_a_host_is_refused(aws):  # pylint: disable=redefined-outer-name
    result, failed = run_module(iam_oidc_provider, dict(aws.args, url="https://"))
    assert failed and "url must be the issuer URL" in result["msg"]
