#!/bin/bash
# Run once by the postgres image's entrypoint, when the data volume is empty
# (/docker-entrypoint-initdb.d). One login role and one database per service, so
# ingest's credentials cannot touch the event store and vice versa. Passwords come
# from docker-compose.yml (.env); changing them later is an ALTER ROLE
# (docs/operations.md, "Rotate").
set -euo pipefail

: "${APPRAISAL_DB_PASSWORD:?APPRAISAL_DB_PASSWORD is not set}"
: "${INGEST_DB_PASSWORD:?INGEST_DB_PASSWORD is not set}"
APPRAISAL_DB_USER="${APPRAISAL_DB_USER:-appraisal}"
APPRAISAL_DB_NAME="${APPRAISAL_DB_NAME:-appraisal}"
INGEST_DB_USER="${INGEST_DB_USER:-ingest}"
INGEST_DB_NAME="${INGEST_DB_NAME:-ingest}"

# psql variables (:"ident", :'literal') quote names and passwords; nothing is spliced
# into SQL by the shell.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  --set=appraisal_user="$APPRAISAL_DB_USER" --set=appraisal_db="$APPRAISAL_DB_NAME" \
  --set=appraisal_password="$APPRAISAL_DB_PASSWORD" \
  --set=ingest_user="$INGEST_DB_USER" --set=ingest_db="$INGEST_DB_NAME" \
  --set=ingest_password="$INGEST_DB_PASSWORD" <<'SQL'
CREATE ROLE :"appraisal_user" LOGIN PASSWORD :'appraisal_password';
CREATE DATABASE :"appraisal_db" OWNER :"appraisal_user";
REVOKE ALL ON DATABASE :"appraisal_db" FROM PUBLIC;

CREATE ROLE :"ingest_user" LOGIN PASSWORD :'ingest_password';
CREATE DATABASE :"ingest_db" OWNER :"ingest_user";
REVOKE ALL ON DATABASE :"ingest_db" FROM PUBLIC;
SQL
