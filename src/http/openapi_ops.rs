//! Building OpenAPI operations by hand, for the routes generic handlers serve (rotation types
//! and connection types): `#[utoipa::path]` needs one annotated function per path.

use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, Object, OpenApi, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};

pub fn json_ref(name: &str) -> utoipa::openapi::Content {
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

pub fn param(
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

pub fn bool_query(name: &str) -> utoipa::openapi::path::Parameter {
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
pub struct Op {
    pub tag: &'static str,
    pub id: String,
    pub description: Option<&'static str>,
    pub parameters: Vec<utoipa::openapi::path::Parameter>,
    pub body: Option<String>,
    pub ok: Option<String>,
    pub fails_at_provider: bool,
}

impl Op {
    pub fn build(self) -> utoipa::openapi::path::Operation {
        let mut builder = OperationBuilder::new()
            .tag(self.tag)
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

pub fn add_schema(doc: &mut OpenApi, name: String, schema: RefOr<Schema>) {
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(name, schema);
}
