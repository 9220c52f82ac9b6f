//! The OpenAPI operations of one rotation type, built from the same type that `routes::<T>()`
//! serves (`#[utoipa::path]` needs one annotated function per path, which generic handlers
//! are not). Operation ids follow Infisical's convention: `create{Id}Rotation` and so on,
//! `{Id}` being the type's name without spaces.

use utoipa::openapi::path::{HttpMethod, ParameterIn};
use utoipa::openapi::OpenApi;
use utoipa::{PartialSchema, ToSchema};

use crate::http::openapi_ops::{add_schema, bool_query, param, Op};

use super::wire::{
    CreateRotation, GeneratedCredentials, RotationEnvelope, RotationList, RunList, UpdateRotation,
};
use crate::rotation::api::RotationApi;

const TAG: &str = "Secret Rotations";

/// Adds the type's schemas and its ten operations to `doc`.
pub fn document<T: RotationApi>(doc: &mut OpenApi) {
    let id: String = T::NAME.split_whitespace().collect();
    let operation_id = |op: &str, default: String| {
        T::LEGACY_OPERATION_IDS
            .iter()
            .find(|(name, _)| *name == op)
            .map(|(_, legacy)| legacy.to_string())
            .unwrap_or(default)
    };

    // The type's own schemas, and what they refer to.
    let mut referenced = Vec::new();
    for (name, schema) in [
        (RotationEnvelope::name(), RotationEnvelope::schema()),
        (RotationList::name(), RotationList::schema()),
        (RunList::name(), RunList::schema()),
    ] {
        referenced.push((name.into_owned(), schema));
    }
    <RotationEnvelope as ToSchema>::schemas(&mut referenced);
    <RunList as ToSchema>::schemas(&mut referenced);
    <CreateRotation<T::Input, T::Mapping> as ToSchema>::schemas(&mut referenced);
    <UpdateRotation<T::Input, T::Mapping> as ToSchema>::schemas(&mut referenced);
    <GeneratedCredentials<T::Credential> as ToSchema>::schemas(&mut referenced);
    referenced.push((T::Input::name().into_owned(), T::Input::schema()));
    referenced.push((T::Mapping::name().into_owned(), T::Mapping::schema()));
    referenced.push((T::Credential::name().into_owned(), T::Credential::schema()));
    for (name, schema) in referenced {
        add_schema(doc, name, schema);
    }
    let create = format!("Create{id}Rotation");
    let update = format!("Update{id}Rotation");
    let generated = format!("{id}GeneratedCredentials");
    add_schema(
        doc,
        create.clone(),
        CreateRotation::<T::Input, T::Mapping>::schema(),
    );
    add_schema(
        doc,
        update.clone(),
        UpdateRotation::<T::Input, T::Mapping>::schema(),
    );
    add_schema(
        doc,
        generated.clone(),
        GeneratedCredentials::<T::Credential>::schema(),
    );

    let base = format!("/api/v2/secret-rotations/{}", T::TYPE);
    let rotation_id = || param("rotationId", ParameterIn::Path, true, true);
    let project_id = || param("projectId", ParameterIn::Query, true, false);
    let mut add = |path: String, method: HttpMethod, op: Op| {
        doc.paths.add_path_operation(path, vec![method], op.build());
    };
    add(
        base.clone(),
        HttpMethod::Get,
        Op {
            tag: TAG,
            id: operation_id("list", format!("list{id}Rotations")),
            description: None,
            parameters: vec![project_id()],
            body: None,
            ok: Some("RotationList".into()),
            fails_at_provider: false,
        },
    );
    add(
        base.clone(),
        HttpMethod::Post,
        Op {
            tag: TAG,
            id: operation_id("create", format!("create{id}Rotation")),
            description: Some(T::CREATE_DOC),
            parameters: vec![],
            body: Some(create),
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: true,
        },
    );
    add(
        format!("{base}/rotation-name/{{rotationName}}"),
        HttpMethod::Get,
        Op {
            tag: TAG,
            id: operation_id("get-by-name", format!("get{id}RotationByName")),
            description: None,
            parameters: vec![
                param("rotationName", ParameterIn::Path, true, false),
                project_id(),
                param("environment", ParameterIn::Query, true, false),
                param("secretPath", ParameterIn::Query, true, false),
            ],
            body: None,
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: false,
        },
    );
    let one = format!("{base}/{{rotationId}}");
    add(
        one.clone(),
        HttpMethod::Get,
        Op {
            tag: TAG,
            id: operation_id("get", format!("get{id}Rotation")),
            description: None,
            parameters: vec![rotation_id()],
            body: None,
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: false,
        },
    );
    add(
        one.clone(),
        HttpMethod::Patch,
        Op {
            tag: TAG,
            id: operation_id("update", format!("update{id}Rotation")),
            description: None,
            parameters: vec![rotation_id()],
            body: Some(update),
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: false,
        },
    );
    add(
        one.clone(),
        HttpMethod::Delete,
        Op {
            tag: TAG,
            id: operation_id("delete", format!("delete{id}Rotation")),
            description: Some(T::REVOKE_DOC),
            parameters: vec![
                rotation_id(),
                bool_query("deleteSecrets"),
                bool_query("revokeGeneratedCredentials"),
            ],
            body: None,
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: false,
        },
    );
    add(
        format!("{one}/generated-credentials"),
        HttpMethod::Get,
        Op {
            tag: TAG,
            id: operation_id(
                "generated-credentials",
                format!("get{id}RotationGeneratedCredentials"),
            ),
            description: None,
            parameters: vec![rotation_id()],
            body: None,
            ok: Some(generated),
            fails_at_provider: false,
        },
    );
    add(
        format!("{one}/rotate-secrets"),
        HttpMethod::Post,
        Op {
            tag: TAG,
            id: operation_id("rotate", format!("rotate{id}Rotation")),
            description: Some(T::ROTATE_DOC),
            parameters: vec![rotation_id()],
            body: None,
            ok: Some("RotationEnvelope".into()),
            fails_at_provider: true,
        },
    );
    add(
        format!("{one}/check-credentials"),
        HttpMethod::Post,
        Op {
            tag: TAG,
            id: operation_id("check", format!("check{id}RotationCredentials")),
            description: Some(T::CHECK_DOC),
            parameters: vec![rotation_id()],
            body: None,
            ok: None,
            fails_at_provider: false,
        },
    );
    add(
        format!("{one}/runs"),
        HttpMethod::Get,
        Op {
            tag: TAG,
            id: operation_id("runs", format!("list{id}RotationRuns")),
            description: Some("The rotation's run history, newest first (Rotary only)."),
            parameters: vec![rotation_id()],
            body: None,
            ok: Some("RunList".into()),
            fails_at_provider: false,
        },
    );
}
