# Create the Airflow admin user unless it exists (run by the admin-user Job as `python -c`).
# Credentials come from the environment (secretKeyRef), never from the command line.
import os

from airflow.cli import cli_parser

ARGS = cli_parser.get_parser().parse_args([
    "users", "create",
    "--username", os.environ["AIRFLOW_ADMIN_USERNAME"],
    "--password", os.environ["AIRFLOW_ADMIN_PASSWORD"],
    "--role", os.environ["AIRFLOW_ADMIN_ROLE"],
    "--firstname", os.environ["AIRFLOW_ADMIN_FIRSTNAME"],
    "--lastname", os.environ["AIRFLOW_ADMIN_LASTNAME"],
    "--email", os.environ["AIRFLOW_ADMIN_EMAIL"],
])
ARGS.func(ARGS)
