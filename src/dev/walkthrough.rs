//! The curl walkthrough `rotary dev` prints: every command can be pasted as it is (bash), and
//! the `rotary dev` test runs them all.

use super::Setup;

pub fn text(base: &str, database_url: &str, data_dir: &str, s: &Setup) -> String {
    let (project, connection, instance) = (&s.project_id, &s.connection_id, &s.instance_url);
    let (client_id, client_secret) = (&s.client_id, &s.client_secret);
    let (pg_connection, pg_port) = (&s.pg_connection_id, s.pg_port);
    let pg_rotations = format!("{base}/api/v2/secret-rotations/postgres-credentials");
    let [user1, user2] = super::PG_USERS;
    let rotations = format!("{base}/api/v2/secret-rotations/salesforce-oauth-credentials");
    let apps = format!("{base}/api/v1/app-connections/salesforce/{connection}/oauth-apps");
    let py = "python3 -c 'import json,sys; print(json.load(sys.stdin)";
    format!(
        r#"
Rotary is running at {base}, with a mock Salesforce org at {instance}.
Set up for you: organization "Demo", project "Billing" ({project}),
the Salesforce connection "demo-org" ({connection}), and the PostgreSQL
connection "demo-db" ({pg_connection}) to this demo's own cluster, whose
login roles {user1} and {user2} are yours to rotate.
Rotation intervals count minutes here (dev mode). Database: {database_url}
Logs: {data_dir}/server.log. Ctrl-C stops everything; the next start finds it all as you left it.

Web console: {base}/ (sign in with client ID {client_id}
and client secret {client_secret}).

Paste these into another terminal:

  # 1. log in as the admin machine identity
  TOKEN=$(curl -s {base}/api/v1/auth/universal-auth/login -H 'Content-Type: application/json' \
    -d '{{"clientId":"{client_id}","clientSecret":"{client_secret}"}}' \
    | {py}["accessToken"])')

  # 2. list the org's External Client Apps
  curl -s -w '\n' {apps} -H "Authorization: Bearer $TOKEN"

  # 3. create a rotation of Billing_Sync's consumer secret (the seed's sample body)
  APP_ID=$(curl -s {apps} -H "Authorization: Bearer $TOKEN" \
    | python3 -c 'import json,sys; print([a for a in json.load(sys.stdin)["apps"] if a["developerName"]=="Billing_Sync"][0]["identifier"])')
  ROTATION=$(curl -s {rotations} \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data "{{
      \"name\": \"my-salesforce-rotation\", \"projectId\": \"{project}\",
      \"description\": \"Salesforce ECA consumer secret rotation\", \"connectionId\": \"{connection}\",
      \"environment\": \"dev\", \"secretPath\": \"/\", \"isAutoRotationEnabled\": true,
      \"rotationInterval\": 30, \"rotateAtUtc\": {{ \"hours\": 0, \"minutes\": 0 }},
      \"parameters\": {{ \"appId\": \"$APP_ID\", \"appName\": \"Billing_Sync\" }},
      \"secretsMapping\": {{ \"consumerKey\": \"SALESFORCE_CONSUMER_KEY\", \"consumerSecret\": \"SALESFORCE_CONSUMER_SECRET\" }}
    }}" | {py}["secretRotation"]["id"])')

  # 4. read the mapped secrets, as applications do
  curl -s -w '\n' "{base}/api/v3/secrets/raw?workspaceId={project}&environment=dev" -H "Authorization: Bearer $TOKEN"

  # 5. rotate now, then check the new credential works at Salesforce (204)
  curl -s -w '\n' -X POST {rotations}/$ROTATION/rotate-secrets \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{{}}'
  curl -s -o /dev/null -w '%{{http_code}}\n' -X POST \
    {rotations}/$ROTATION/check-credentials -H "Authorization: Bearer $TOKEN"

  # 6. the run history, newest first
  curl -s -w '\n' {rotations}/$ROTATION/runs -H "Authorization: Bearer $TOKEN"

  # 7. the metrics: runs by outcome, provider calls, credential age
  curl -s {base}/metrics -H "Authorization: Bearer $TOKEN" | grep -E '^rotary_(rotation_runs_total|provider_call_duration_seconds_count|active_credential_age_seconds)'

  # 8. what the mock org holds (its test-only control API)
  curl -s -w '\n' {instance}/__mock/apps/$APP_ID/credentials

  # 9. PostgreSQL: rotate the passwords of {user1} and {user2}, used in turn
  PG_ROTATION=$(curl -s {pg_rotations} \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data '{{
      "name": "my-pg-rotation", "projectId": "{project}", "connectionId": "{pg_connection}",
      "environment": "dev", "secretPath": "/", "rotationInterval": 30,
      "parameters": {{ "username1": "{user1}", "username2": "{user2}" }},
      "secretsMapping": {{ "username": "POSTGRES_DB_USERNAME", "password": "POSTGRES_DB_PASSWORD" }}
    }}' | {py}["secretRotation"]["id"])')

  # 10. log in as an application does: a fresh connection with the mapped secrets
  secret() {{ curl -s "{base}/api/v3/secrets/raw/$1?workspaceId={project}&environment=dev" \
    -H "Authorization: Bearer $TOKEN" | {py}["secret"]["secretValue"])'; }}
  PGPASSWORD=$(secret POSTGRES_DB_PASSWORD) psql -h 127.0.0.1 -p {pg_port} -d postgres \
    -U "$(secret POSTGRES_DB_USERNAME)" -Atc 'SELECT current_user'

  # 11. rotate: {user2} gets a new password and becomes the mapped user; {user1} keeps
  #     working until the next rotation
  curl -s -o /dev/null -w '%{{http_code}}\n' -X POST {pg_rotations}/$PG_ROTATION/rotate-secrets \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{{}}'
  PGPASSWORD=$(secret POSTGRES_DB_PASSWORD) psql -h 127.0.0.1 -p {pg_port} -d postgres \
    -U "$(secret POSTGRES_DB_USERNAME)" -Atc 'SELECT current_user'
"#
    )
}
