//! The OpenAPI operations of one rotation type, built from the same type that `routes::<T>()`
//! serves (`#[utoipa::path]` needs one annotated function per path, which generic handlers
//! are not). Operation ids follow Infisical's convention: `create{Id}Rotation` and so on,
//! `{Id}` being the type's name without spaces.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, Object, OpenApi, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};

use super::wire::{
    CreateRotation, GeneratedCredentials, RotationEnvelope, RotationList, RunList, UpdateRotation,
};
use crate::rotation::api::RotationApi;

const TAG: &str = "Secret Rotations";

fn json_ref(name: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(name)))
        .build()
}

fn string_schema(format_uuid: bool) -> Schema {
    let mut object = Object::with_type(Type::String);
    if format_uuid {
        object.format = Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Uuid,
        ));
    }
    Schema::Object(object)
}

fn param(
    name: &str,
    location: ParameterIn,
    required: bool,
    uuid: bool,
) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(Some(string_schema(uuid)))
        .build()
}

fn bool_query(name: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(Schema::Object(Object::with_type(Type::Boolean))))
        .build()
}

/// One operation: its id, description, parameters, body, and the answers (`200` with the
/// schema named, or `204` when none; always the error shape for 4XX, and for 500 when the
/// provider can fail the call).
struct Op {
    id: String,
    description: Option<&'static str>,
    parameters: Vec<utoipa::openapi::path::Parameter>,
    body: Option<String>,
    ok: Option<String>,
    fails_at_provider: bool,
}

impl Op {
    fn build(self) -> utoipa::openapi::path::Operation {
        let mut builder = OperationBuilder::new()
            .tag(TAG)
            .operation_id(Some(self.id))
            .description(self.description)
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        if !self.parameters.is_empty() {
            builder = builder.parameters(Some(self.parameters));
        }
        if let Some(body) = self.body {
            builder = builder.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json_ref(&body))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        builder = match self.ok {
            Some(schema) => builder.response(
                "200",
                ResponseBuilder::new()
                    .description("")
                    .content("application/json", json_ref(&schema)),
            ),
            None => builder.response("204", ResponseBuilder::new().description("")),
        };
        builder = builder.response(
            "4XX",
            ResponseBuilder::new()
                .description("")
                .content("application/json", json_ref("ErrorBody")),
        );
        if self.fails_at_provider {
            builder = builder.response(
                "500",
                ResponseBuilder::new()
                    .description("")
                    .content("application/json", json_ref("ErrorBody")),
            );
        }
        builder.build()
    }
}

fn add_schema(doc: &mut OpenApi, name: String, schema: RefOr<Schema>) {
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(name, schema);
}

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
            id: operation_id("runs", format!("list{id}RotationRuns")),
            description: Some("The rotation's run history, newest first (Rotary only)."),
            parameters: vec![rotation_id()],
            body: None,
            ok: Some("RunList".into()),
            fails_at_provider: false,
        },
    );
}
