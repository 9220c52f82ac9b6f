//! The OpenAPI operations of one app's connection routes, built from the same type that
//! `routes::<C>()` serves. Operation ids: `list{Name}Connections` and so on, `{Name}` being
//! the app's name without spaces (Salesforce keeps the ids it was published with).

use utoipa::openapi::path::{HttpMethod, ParameterIn};
use utoipa::openapi::OpenApi;
use utoipa::{PartialSchema, ToSchema};

use super::{AppConnectionEnvelope, AppConnectionList};
use super::{AvailableConnections, CreateConnection, UpdateConnection};
use crate::connections::types::ConnectionType;
use crate::http::openapi_ops::{add_schema, param, Op};

const TAG: &str = "App Connections";

/// Adds the app's schemas and its seven operations to `doc`.
pub fn document<C: ConnectionType>(doc: &mut OpenApi) {
    let id: String = C::NAME.split_whitespace().collect();
    let operation_id = |op: &str, default: String| {
        C::LEGACY_OPERATION_IDS
            .iter()
            .find(|(name, _)| *name == op)
            .map(|(_, legacy)| legacy.to_string())
            .unwrap_or(default)
    };
    let mut referenced = vec![
        (
            AppConnectionEnvelope::name().into_owned(),
            AppConnectionEnvelope::schema(),
        ),
        (
            AppConnectionList::name().into_owned(),
            AppConnectionList::schema(),
        ),
        (
            AvailableConnections::name().into_owned(),
            AvailableConnections::schema(),
        ),
        (C::Input::name().into_owned(), C::Input::schema()),
    ];
    <AppConnectionEnvelope as ToSchema>::schemas(&mut referenced);
    <AvailableConnections as ToSchema>::schemas(&mut referenced);
    <C::Input as ToSchema>::schemas(&mut referenced);
    for (name, schema) in referenced {
        add_schema(doc, name, schema);
    }
    let create = format!("Create{id}Connection");
    let update = format!("Update{id}Connection");
    add_schema(doc, create.clone(), CreateConnection::<C::Input>::schema());
    add_schema(doc, update.clone(), UpdateConnection::<C::Input>::schema());

    let base = format!("/api/v1/app-connections/{}", C::APP);
    let connection_id = || param("connectionId", ParameterIn::Path, true, true);
    let project_id = || param("projectId", ParameterIn::Query, false, true);
    let mut add = |path: String, method: HttpMethod, op: Op| {
        doc.paths.add_path_operation(path, vec![method], op.build());
    };
    let op = |id: String, description: Option<&'static str>| Op {
        tag: TAG,
        id,
        description,
        parameters: vec![],
        body: None,
        ok: Some("AppConnectionEnvelope".into()),
        fails_at_provider: false,
    };
    add(
        base.clone(),
        HttpMethod::Get,
        Op {
            parameters: vec![project_id()],
            ok: Some("AppConnectionList".into()),
            ..op(operation_id("list", format!("list{id}Connections")), None)
        },
    );
    add(
        base.clone(),
        HttpMethod::Post,
        Op {
            body: Some(create),
            ..op(
                operation_id("create", format!("create{id}Connection")),
                Some("Creates the connection after checking its credentials against the provider (a token, a login); the answer never holds a secret."),
            )
        },
    );
    add(
        format!("{base}/available"),
        HttpMethod::Get,
        Op {
            parameters: vec![project_id()],
            ok: Some("AvailableConnections".into()),
            ..op(
                operation_id("available", format!("list{id}AvailableConnections")),
                Some("The connections the caller may use in the project's rotations (organization ones for org admins only)."),
            )
        },
    );
    add(
        format!("{base}/connection-name/{{connectionName}}"),
        HttpMethod::Get,
        Op {
            parameters: vec![
                param("connectionName", ParameterIn::Path, true, false),
                project_id(),
            ],
            ..op(
                operation_id("get-by-name", format!("get{id}ConnectionByName")),
                None,
            )
        },
    );
    let one = format!("{base}/{{connectionId}}");
    add(
        one.clone(),
        HttpMethod::Get,
        Op {
            parameters: vec![connection_id()],
            ..op(operation_id("get", format!("get{id}Connection")), None)
        },
    );
    add(
        one.clone(),
        HttpMethod::Patch,
        Op {
            parameters: vec![connection_id()],
            body: Some(update),
            ..op(
                operation_id("update", format!("update{id}Connection")),
                None,
            )
        },
    );
    add(
        one,
        HttpMethod::Delete,
        Op {
            parameters: vec![connection_id()],
            ..op(
                operation_id("delete", format!("delete{id}Connection")),
                Some("Deletes a connection no rotation uses."),
            )
        },
    );
}
