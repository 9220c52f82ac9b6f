use serde_json::json;

use crate::helpers::{assert_error, redact, spawn_app};

#[tokio::test]
async fn creating_a_project_gives_default_environments_and_admin_membership() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/v2/workspace",
            &token,
            json!({"projectName": "Billing", "slug": "billing"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let envs = |project_id: &str| {
        json!([
            {"id": "<id>", "name": "Development", "slug": "dev", "position": 1, "projectId": project_id, "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"},
            {"id": "<id>", "name": "Staging", "slug": "staging", "position": 2, "projectId": project_id, "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"},
            {"id": "<id>", "name": "Production", "slug": "prod", "position": 3, "projectId": project_id, "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}
        ])
    };
    let project_id = r.body["project"]["id"].as_str().unwrap().to_string();
    let org_id = r.body["project"]["orgId"].as_str().unwrap().to_string();
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        json!({"project": {
            "id": "<id>", "_id": project_id, "name": "Billing", "slug": "billing", "orgId": org_id,
            "type": "secret-manager", "description": null, "version": 3, "hasDeleteProtection": false,
            "environments": envs(&project_id), "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"
        }})
    );

    let r = app
        .get(&format!("/api/v1/workspace/{project_id}"), &token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["workspace"]["slug"], "billing");
    assert_eq!(
        redact(
            &r.body["workspace"]["environments"],
            &["id", "createdAt", "updatedAt"]
        ),
        envs(&project_id)
    );

    let r = app
        .get(
            &format!("/api/v2/workspace/{project_id}/identity-memberships"),
            &token,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalCount"], 1);
    assert_eq!(
        r.body["identityMemberships"][0]["roles"][0]["role"],
        "admin"
    );
    assert_eq!(
        r.body["identityMemberships"][0]["identity"]["name"],
        "admin"
    );
}

#[tokio::test]
async fn project_slugs_are_validated_and_unique() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/v2/workspace",
            &token,
            json!({"projectName": "A", "slug": "Not Valid"}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["slug"], "message": "slug field can only contain lowercase letters, numbers, and hyphens"}]),
    );
    app.post(
        "/api/v2/workspace",
        &token,
        json!({"projectName": "A", "slug": "a"}),
    )
    .await;
    let r = app
        .post(
            "/api/v2/workspace",
            &token,
            json!({"projectName": "B", "slug": "a"}),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("A project with the slug 'a' already exists"),
    );
    let r = app
        .post(
            "/api/v2/workspace",
            &token,
            json!({"projectName": "My Shop"}),
        )
        .await;
    let slug = r.body["project"]["slug"].as_str().unwrap();
    assert!(slug.starts_with("my-shop-") && slug.len() == 12, "{slug}");
    assert_eq!(app.count("projects").await, 2);
}

#[tokio::test]
async fn environments_can_be_created_renamed_and_deleted() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;
    let base = format!("/api/v1/workspace/{project}/environments");

    let r = app
        .post(&base, &token, json!({"name": "QA", "slug": "qa"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        json!({"message": "Successfully created new environment", "workspace": project,
               "environment": {"id": "<id>", "name": "QA", "slug": "qa", "position": 4, "projectId": project,
                               "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}})
    );
    let env_id = r.body["environment"]["id"].as_str().unwrap().to_string();

    let r = app
        .post(&base, &token, json!({"name": "QA again", "slug": "qa"}))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Environment with slug 'qa' already exist"),
    );
    let r = app
        .post(&base, &token, json!({"name": "X", "slug": "x y"}))
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["slug"], "message": "slug field can only contain lowercase letters, numbers, and hyphens"}]),
    );

    let r = app
        .patch(
            &format!("{base}/{env_id}"),
            &token,
            json!({"name": "Quality", "slug": "quality"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Successfully updated environment");
    assert_eq!(r.body["environment"]["slug"], "quality");
    let r = app
        .patch(&format!("{base}/{env_id}"), &token, json!({"slug": "dev"}))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Environment with slug 'dev' already exist"),
    );

    let r = app.get(&format!("{base}/{env_id}"), &token).await;
    assert_eq!(r.body["environment"]["name"], "Quality");

    let r = app.delete(&format!("{base}/{env_id}"), &token, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["message"], "Successfully deleted environment");
    let r = app.get(&format!("{base}/{env_id}"), &token).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Environment with ID '{env_id}' not found")),
    );
    assert_eq!(app.count("environments").await, 3);
}

#[tokio::test]
async fn an_identity_sees_nothing_of_a_project_it_is_not_a_member_of() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Private").await;
    let (_, outsider) = app.new_identity(&admin, "outsider", "member").await;

    let r = app.get("/api/v1/workspace", &outsider).await;
    assert_eq!(r.body, json!({"workspaces": []}));
    let not_found = json!(format!("Project with ID '{project}' not found"));
    let r = app
        .get(&format!("/api/v1/workspace/{project}"), &outsider)
        .await;
    assert_error(&r, 404, "NotFound", not_found.clone());
    let r = app
        .post(
            &format!("/api/v1/workspace/{project}/environments"),
            &outsider,
            json!({"name": "X", "slug": "x"}),
        )
        .await;
    assert_error(&r, 404, "NotFound", not_found.clone());
    let r = app
        .get(
            &format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev"),
            &outsider,
        )
        .await;
    assert_error(&r, 404, "NotFound", not_found.clone());
    let r = app
        .post(
            "/api/v3/secrets/raw/X",
            &outsider,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
        )
        .await;
    assert_error(&r, 404, "NotFound", not_found);
    assert_eq!(app.count("secrets").await, 0);
    assert_eq!(app.count("environments").await, 3);
}

#[tokio::test]
async fn memberships_grant_roles_and_viewers_cannot_write() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Shared").await;
    let (viewer_id, viewer) = app.new_identity(&admin, "viewer", "member").await;
    let base = format!("/api/v2/workspace/{project}/identity-memberships/{viewer_id}");

    let r = app.post(&base, &admin, json!({"role": "viewer"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        json!({"identityMembership": {
            "id": "<id>", "identityId": viewer_id, "projectId": project,
            "roles": [{"id": "<id>", "role": "viewer", "customRoleId": null, "customRoleSlug": null,
                       "isTemporary": false, "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}],
            "identity": {"id": "<id>", "name": "viewer"},
            "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"
        }})
    );
    let r = app.post(&base, &admin, json!({"role": "viewer"})).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Identity is already a member of this project"),
    );

    app.post(
        "/api/v3/secrets/raw/KEY",
        &admin,
        json!({"workspaceId": project, "environment": "dev", "secretValue": "v1"}),
    )
    .await;
    let r = app
        .get(
            &format!("/api/v3/secrets/raw/KEY?workspaceId={project}&environment=dev"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["secret"]["secretValue"], "v1");
    let r = app
        .patch(
            "/api/v3/secrets/raw/KEY",
            &viewer,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "v2"}),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to edit on secrets"),
    );
    assert_eq!(
        r.body["details"],
        json!([{"action": "edit", "inverted": false, "subject": "secrets"}])
    );
    let r = app
        .post(
            "/api/v3/secrets/raw/NEW",
            &viewer,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to create on secrets"),
    );
    let r = app
        .delete(
            "/api/v3/secrets/raw/KEY",
            &viewer,
            Some(json!({"workspaceId": project, "environment": "dev"})),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to delete on secrets"),
    );
    let r = app
        .post(
            &format!("/api/v1/workspace/{project}/environments"),
            &viewer,
            json!({"name": "X", "slug": "x"}),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to create on environments"),
    );
    assert_eq!(app.count("secret_versions").await, 1);

    // Promote to member: secrets become writable, memberships still are not.
    let r = app
        .patch(&base, &admin, json!({"roles": [{"role": "member"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["roles"][0]["role"], "member");
    let r = app
        .patch(
            "/api/v3/secrets/raw/KEY",
            &viewer,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "v2"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .get(
            &format!("/api/v2/workspace/{project}/identity-memberships"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app.patch(&base, &viewer, json!({"role": "admin"})).await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to edit on identity"),
    );

    // no-access sees nothing.
    app.patch(&base, &admin, json!({"role": "no-access"})).await;
    let r = app
        .get(
            &format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev"),
            &viewer,
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to read on secrets"),
    );
    let r = app.get("/api/v1/workspace", &viewer).await;
    assert_eq!(r.body, json!({"workspaces": []}));

    let r = app.patch(&base, &admin, json!({"role": "owner"})).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_enum_value", "path": ["role"], "message": "Invalid role 'owner'; expected one of admin, member, viewer, no-access"}]),
    );

    let r = app.delete(&base, &admin, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["identityMembership"]["identityId"], viewer_id);
    let r = app.get(&base, &admin).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Identity with ID '{viewer_id}' is not a member of this project"
        )),
    );
}

#[tokio::test]
async fn a_project_keeps_at_least_one_admin() {
    let app = spawn_app().await;
    let (client_id, secret, admin_id, _) = app.bootstrap().await;
    let admin = app.login(&client_id, &secret).await;
    let project = app.create_project(&admin, "P").await;
    let base = format!("/api/v2/workspace/{project}/identity-memberships/{admin_id}");
    let r = app.patch(&base, &admin, json!({"role": "viewer"})).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("A project must keep at least one admin"),
    );
    let r = app.delete(&base, &admin, None).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("A project must keep at least one admin"),
    );
    assert_eq!(app.count("project_memberships").await, 1);
}
