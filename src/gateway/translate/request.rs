//! Request translation in both directions.

use serde_json::{json, Value};

use super::response::{anthropic_tool_id, parse_tool_arguments};
use super::{TranslateError, ANTHROPIC_API, DEFAULT_MAX_TOKENS, OPENAI_API};
use crate::gateway::wire::anthropic as a;
use crate::gateway::wire::openai as o;

/// Separator between Anthropic system blocks joined into one OpenAI system
/// message: blocks are paragraphs of one prompt.
const SYSTEM_JOINER: &str = "\n\n";

/// Anthropic's temperature range is 0..=1, OpenAI's 0..=2; values above 1
/// are clamped rather than rejected upstream.
const ANTHROPIC_MAX_TEMPERATURE: f64 = 1.0;

/// Longest `user` api.openai.com accepts; longer ids (Claude Code's
/// `user_<hash>_account_<uuid>_session_<uuid>`) would fail the request, so
/// they are dropped: the field is only an abuse-tracking hint.
const OPENAI_USER_MAX_CHARS: usize = 64;

/// Translates an Anthropic Messages request into an OpenAI Chat Completions
/// request for upstream `model`, so a Claude client can be served by an
/// OpenAI-protocol provider.
///
/// `max_tokens` goes to `max_completion_tokens` (the field OpenAI documents;
/// its reasoning models reject `max_tokens`). A streaming request asks for
/// `stream_options.include_usage` so the final chunk reports token counts for
/// Anthropic's `message_delta`. `metadata.user_id` becomes `user` when short
/// enough; `top_k` and Anthropic-only fields (`thinking`, ...) are dropped.
/// See the module docs for content mapping.
///
/// `max_tokens` is passed as is: Claude clients ask for up to 64k, more than
/// some OpenAI models allow (gpt-4o: 16k), so a gateway that knows the
/// upstream model's limit may lower `max_completion_tokens` afterwards.
pub fn anthropic_to_openai_request(
    req: &a::MessagesRequest,
    model: &str,
) -> Result<o::ChatRequest, TranslateError> {
    let mut messages = Vec::new();
    if let Some(system) = &req.system {
        let text = system_text(system);
        if !text.is_empty() {
            messages.push(o::ChatMessage::new(
                o::ChatRole::System,
                Some(o::MessageContent::Text(text)),
            ));
        }
    }
    // System turns that stand between an assistant's tool calls and their
    // results wait until the `tool` messages are out: OpenAI wants those
    // directly after the calls.
    let mut held = Vec::new();
    for message in &req.messages {
        match message.role {
            a::Role::User => user_to_openai(&message.content, &mut messages, &mut held)?,
            a::Role::Assistant => {
                messages.append(&mut held);
                assistant_to_openai(&message.content, &mut messages)
            }
            a::Role::System => {
                let text = system_text(&message.content);
                if text.is_empty() {
                    continue;
                }
                let turn = o::ChatMessage::new(o::ChatRole::System, Some(o::MessageContent::Text(text)));
                let after_calls = messages
                    .last()
                    .is_some_and(|m| m.role == o::ChatRole::Assistant && m.tool_calls.is_some());
                if after_calls || !held.is_empty() {
                    held.push(turn);
                } else {
                    messages.push(turn);
                }
            }
        }
    }
    messages.append(&mut held);

    let tools: Vec<o::ToolDef> = req.tools.iter().flatten().filter_map(tool_to_openai).collect();
    // OpenAI rejects tool_choice and parallel_tool_calls without tools.
    let (tools, tool_choice, parallel_tool_calls) = if tools.is_empty() {
        (None, None, None)
    } else {
        let (choice, parallel) = match &req.tool_choice {
            Some(choice) => tool_choice_to_openai(choice),
            None => (None, None),
        };
        (Some(tools), choice, parallel)
    };
    let stream = req.stream;
    let mut extra = o::Extra::new();
    if let Some(format) = response_format_to_openai(req) {
        extra.insert("response_format".into(), format);
    }

    Ok(o::ChatRequest {
        model: model.to_owned(),
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        max_tokens: None,
        max_completion_tokens: Some(req.max_tokens),
        temperature: req.temperature,
        top_p: req.top_p,
        stop: req
            .stop_sequences
            .as_ref()
            .filter(|stops| !stops.is_empty())
            .map(|stops| o::Stop::Many(stops.clone())),
        stream,
        stream_options: (stream == Some(true)).then(|| o::StreamOptions {
            include_usage: Some(true),
            extra: o::Extra::new(),
        }),
        user: req
            .metadata
            .as_ref()
            .and_then(|m| m.user_id.clone())
            .filter(|user| user.chars().count() <= OPENAI_USER_MAX_CHARS),
        n: None,
        extra,
    })
}

/// Anthropic structured output (`output_config.format`, or the beta's
/// `output_format`) as OpenAI's `response_format`: both take a JSON schema.
fn response_format_to_openai(req: &a::MessagesRequest) -> Option<Value> {
    let format = req
        .extra
        .get("output_config")
        .and_then(|c| c.get("format"))
        .or_else(|| req.extra.get("output_format"))?;
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return None;
    }
    let schema = format.get("schema")?.clone();
    Some(json!({
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": true}
    }))
}

/// The text of an Anthropic `system` field: the string, or the text blocks
/// joined by a blank line.
fn system_text(system: &a::Content) -> String {
    match system {
        a::Content::Text(text) => text.clone(),
        a::Content::Blocks(blocks) => blocks
            .iter()
            .filter_map(|block| match block {
                a::ContentBlock::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(SYSTEM_JOINER),
    }
}

/// One text part becomes a plain string (what most servers expect); several
/// parts, or any image, stay an array so block boundaries survive.
fn parts_to_content(mut parts: Vec<o::ContentPart>) -> o::MessageContent {
    if let [o::ContentPart::Text { .. }] = parts.as_slice() {
        if let Some(o::ContentPart::Text { text }) = parts.pop() {
            return o::MessageContent::Text(text);
        }
    }
    o::MessageContent::Parts(parts)
}

fn user_to_openai(
    content: &a::Content,
    out: &mut Vec<o::ChatMessage>,
    held: &mut Vec<o::ChatMessage>,
) -> Result<(), TranslateError> {
    let blocks = match content {
        a::Content::Text(text) => {
            out.append(held);
            out.push(o::ChatMessage::new(
                o::ChatRole::User,
                Some(o::MessageContent::Text(text.clone())),
            ));
            return Ok(());
        }
        a::Content::Blocks(blocks) => blocks,
    };
    // Tool messages must directly follow the assistant's calls, so they go
    // first and everything else in the turn follows as one user message.
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            a::ContentBlock::Text { text, .. } => parts.push(o::ContentPart::text(text)),
            a::ContentBlock::Image { source, .. } => parts.push(image_to_openai(source)?),
            a::ContentBlock::ToolResult {
                tool_use_id, content, ..
            } => {
                let mut texts = Vec::new();
                for inner in content.as_ref().map(a::Content::to_blocks).unwrap_or_default() {
                    match inner {
                        a::ContentBlock::Text { text, .. } => texts.push(o::ContentPart::text(text)),
                        a::ContentBlock::Image { source, .. } => parts.push(image_to_openai(&source)?),
                        a::ContentBlock::Other(value) => match other_block_to_openai(&value)? {
                            part @ o::ContentPart::Text { .. } => texts.push(part),
                            part => parts.push(part),
                        },
                        _ => {}
                    }
                }
                let content = if texts.is_empty() {
                    o::MessageContent::Text(String::new())
                } else {
                    parts_to_content(texts)
                };
                out.push(o::ChatMessage::tool(tool_use_id.clone(), content));
            }
            a::ContentBlock::Thinking { .. } | a::ContentBlock::RedactedThinking { .. } => {}
            a::ContentBlock::ToolUse { .. } => {
                return Err(TranslateError::Invalid(
                    "a tool_use block in a user message".into(),
                ))
            }
            a::ContentBlock::Other(value) => parts.push(other_block_to_openai(value)?),
        }
    }
    out.append(held);
    if !parts.is_empty() {
        out.push(o::ChatMessage::new(
            o::ChatRole::User,
            Some(parts_to_content(parts)),
        ));
    }
    Ok(())
}

/// User blocks the wire types do not model: `document` (plain text, inline
/// content or a base64 PDF, which OpenAI takes as a `file` part) and
/// `search_result` become parts; anything else (a URL or Files-API document,
/// `container_upload`, ...) is input OpenAI cannot receive, so the request is
/// left to Anthropic-protocol providers rather than silently shortened.
fn other_block_to_openai(value: &Value) -> Result<o::ContentPart, TranslateError> {
    let unsupported = |what: String| TranslateError::Unsupported {
        feature: what,
        target: OPENAI_API,
    };
    let title = value.get("title").and_then(Value::as_str);
    let titled = |text: String| match title {
        Some(title) if !title.is_empty() => format!("{title}\n\n{text}"),
        _ => text,
    };
    match block_type(value) {
        "document" => {
            let source = value.get("source").unwrap_or(&Value::Null);
            match block_type(source) {
                "text" => Ok(o::ContentPart::text(titled(
                    source
                        .get("data")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                ))),
                "content" => Ok(o::ContentPart::text(titled(value_texts(source.get("content"))))),
                "base64" => {
                    let media_type = source
                        .get("media_type")
                        .and_then(Value::as_str)
                        .unwrap_or("application/pdf");
                    let data = source.get("data").and_then(Value::as_str).unwrap_or_default();
                    Ok(o::ContentPart::Other(json!({
                        "type": "file",
                        "file": {
                            "filename": title.unwrap_or("document.pdf"),
                            "file_data": format!("data:{media_type};base64,{data}"),
                        }
                    })))
                }
                other => Err(unsupported(format!("a document with a {other} source"))),
            }
        }
        "search_result" => {
            let source = value.get("source").and_then(Value::as_str).unwrap_or_default();
            let text = value_texts(value.get("content"));
            Ok(o::ContentPart::text(titled(if source.is_empty() {
                text
            } else {
                format!("{text}\n(source: {source})")
            })))
        }
        other => Err(unsupported(format!("a {other} block"))),
    }
}

/// The texts of a JSON string or array of text blocks, joined by blank lines.
fn value_texts(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(SYSTEM_JOINER),
        _ => String::new(),
    }
}

fn block_type(value: &Value) -> &str {
    value.get("type").and_then(Value::as_str).unwrap_or("untyped")
}

fn assistant_to_openai(content: &a::Content, out: &mut Vec<o::ChatMessage>) {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for block in content.to_blocks() {
        match block {
            a::ContentBlock::Text { text, .. } => texts.push(o::ContentPart::text(text)),
            a::ContentBlock::ToolUse { id, name, input, .. } => {
                calls.push(o::ToolCall::function(id, name, input.to_string()))
            }
            // Thinking, server tool blocks and unknown blocks: history the
            // OpenAI model can neither read nor needs.
            _ => {}
        }
    }
    if texts.is_empty() && calls.is_empty() {
        return;
    }
    let content = (!texts.is_empty()).then(|| parts_to_content(texts));
    out.push(o::ChatMessage {
        tool_calls: (!calls.is_empty()).then_some(calls),
        ..o::ChatMessage::new(o::ChatRole::Assistant, content)
    });
}

fn image_to_openai(source: &a::ImageSource) -> Result<o::ContentPart, TranslateError> {
    let url = match source {
        a::ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        a::ImageSource::Url { url } => url.clone(),
        a::ImageSource::Other(value) => {
            return Err(TranslateError::Unsupported {
                feature: format!("an image with a {} source", block_type(value)),
                target: OPENAI_API,
            })
        }
    };
    Ok(o::ContentPart::ImageUrl {
        image_url: o::ImageUrl { url, detail: None },
    })
}

/// Client tools only: a server tool (`type` other than `custom`) runs on
/// Anthropic's side and has no OpenAI counterpart.
fn tool_to_openai(tool: &a::Tool) -> Option<o::ToolDef> {
    if tool.kind.as_deref().is_some_and(|kind| kind != "custom") {
        return None;
    }
    Some(o::ToolDef {
        kind: o::FUNCTION_TYPE.to_owned(),
        function: Some(o::FunctionDef {
            name: tool.name.clone(),
            description: tool.description.clone(),
            parameters: Some(tool.input_schema.clone().unwrap_or_else(empty_schema)),
            strict: None,
        }),
        extra: o::Extra::new(),
    })
}

/// The schema of a tool without parameters, where a definition omits it.
fn empty_schema() -> Value {
    json!({"type": "object", "properties": {}})
}

fn tool_choice_to_openai(choice: &a::ToolChoice) -> (Option<o::ToolChoice>, Option<bool>) {
    let (mapped, disable_parallel) = match choice {
        a::ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (
            o::ToolChoice::Mode(o::ToolChoiceMode::Auto),
            *disable_parallel_tool_use,
        ),
        a::ToolChoice::Any {
            disable_parallel_tool_use,
        } => (
            o::ToolChoice::Mode(o::ToolChoiceMode::Required),
            *disable_parallel_tool_use,
        ),
        a::ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            o::ToolChoice::Named(o::NamedToolChoice::function(name)),
            *disable_parallel_tool_use,
        ),
        a::ToolChoice::None => (o::ToolChoice::Mode(o::ToolChoiceMode::None), None),
    };
    let parallel = (disable_parallel == Some(true)).then_some(false);
    (Some(mapped), parallel)
}

/// Translates an OpenAI Chat Completions request into an Anthropic Messages
/// request for upstream `model`, so an OpenAI client can be served by an
/// Anthropic-protocol provider.
///
/// `max_tokens` is `max_completion_tokens`, else `max_tokens`, else
/// [`DEFAULT_MAX_TOKENS`] (Anthropic requires it). `temperature` is clamped
/// to Anthropic's 0..=1. `stop` becomes `stop_sequences`, `user` becomes
/// `metadata.user_id`, `parallel_tool_calls: false` becomes
/// `disable_parallel_tool_use`. Fails on `n > 1` (Anthropic returns one
/// message), on the legacy `function` role, on a tool message without
/// `tool_call_id`, and on user content parts Anthropic cannot take.
pub fn openai_to_anthropic_request(
    req: &o::ChatRequest,
    model: &str,
) -> Result<a::MessagesRequest, TranslateError> {
    if let Some(n) = req.n.filter(|&n| n > 1) {
        return Err(TranslateError::Unsupported {
            feature: format!("n = {n}"),
            target: ANTHROPIC_API,
        });
    }
    if wants_audio(req) {
        return Err(TranslateError::Unsupported {
            feature: "audio output".into(),
            target: ANTHROPIC_API,
        });
    }
    let mut system = Vec::new();
    let mut messages: Vec<a::Message> = Vec::new();
    // System and developer messages after the conversation began, waiting to
    // be told to the model at the end of the user turn they belong to.
    let mut later_system: Vec<String> = Vec::new();
    for message in &req.messages {
        match message.role {
            o::ChatRole::System | o::ChatRole::Developer if messages.is_empty() => {
                system.extend(content_texts(message.content.as_ref()))
            }
            o::ChatRole::System | o::ChatRole::Developer => {
                later_system.extend(content_texts(message.content.as_ref()))
            }
            o::ChatRole::User => {
                let content = user_to_anthropic(message.content.as_ref())?;
                push_merged(&mut messages, a::Role::User, content);
            }
            o::ChatRole::Assistant => {
                flush_later_system(&mut messages, &mut later_system);
                let content = assistant_to_anthropic(message);
                push_merged(&mut messages, a::Role::Assistant, content);
            }
            o::ChatRole::Tool => {
                let id = message
                    .tool_call_id
                    .clone()
                    .ok_or_else(|| TranslateError::Invalid("a tool message without tool_call_id".into()))?;
                let content = tool_content_to_anthropic(message.content.as_ref());
                let id = anthropic_tool_id(&id).unwrap_or_default();
                let block = a::ContentBlock::tool_result(id, Some(content));
                push_merged(
                    &mut messages,
                    a::Role::User,
                    Some(a::Content::Blocks(vec![block])),
                );
            }
            o::ChatRole::Function => {
                return Err(TranslateError::Unsupported {
                    feature: "the legacy function role".into(),
                    target: ANTHROPIC_API,
                })
            }
        }
    }
    flush_later_system(&mut messages, &mut later_system);
    if let Some(rule) = response_format_rule(req) {
        system.push(rule);
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(a::Content::Text),
        _ => Some(a::Content::Blocks(
            system.into_iter().map(a::ContentBlock::text).collect(),
        )),
    };

    let tools: Vec<a::Tool> = req.tools.iter().flatten().filter_map(tool_to_anthropic).collect();
    let (tools, tool_choice) = if tools.is_empty() {
        (None, None)
    } else {
        let choice = tool_choice_to_anthropic(req.tool_choice.as_ref(), req.parallel_tool_calls);
        (Some(tools), choice)
    };

    Ok(a::MessagesRequest {
        model: model.to_owned(),
        max_tokens: req
            .max_completion_tokens
            .or(req.max_tokens)
            .unwrap_or(DEFAULT_MAX_TOKENS),
        messages,
        system,
        tools,
        tool_choice,
        stop_sequences: match &req.stop {
            Some(o::Stop::One(stop)) => Some(vec![stop.clone()]),
            Some(o::Stop::Many(stops)) if !stops.is_empty() => Some(stops.clone()),
            _ => None,
        },
        temperature: req.temperature.map(|t| t.clamp(0.0, ANTHROPIC_MAX_TEMPERATURE)),
        top_p: req.top_p,
        top_k: None,
        stream: req.stream,
        metadata: req.user.as_ref().map(|user| a::Metadata {
            user_id: Some(user.clone()),
            extra: a::Extra::new(),
        }),
        extra: a::Extra::new(),
    })
}

/// Folds Claude Code's `system` turns inside `messages` into what every
/// Anthropic-protocol endpoint takes, for those that do not take them
/// (Bedrock, Vertex: they follow the public Messages API): system turns before
/// the first user or assistant turn join the top-level `system`; later ones
/// become a `<system>` text block at the end of the user turn they stand in
/// (after its `tool_result` blocks), the rule of OpenAI's later system
/// messages. Their per-turn fields (`output_config`) are dropped. Returns
/// whether anything changed.
pub fn fold_system_turns(req: &mut a::MessagesRequest) -> bool {
    if !req.messages.iter().any(|m| m.role == a::Role::System) {
        return false;
    }
    let mut leading = Vec::new();
    let mut later = Vec::new();
    let mut messages: Vec<a::Message> = Vec::new();
    for message in req.messages.drain(..) {
        match message.role {
            a::Role::System if messages.is_empty() => leading.push(system_text(&message.content)),
            a::Role::System => later.push(system_text(&message.content)),
            role => {
                if role == a::Role::Assistant {
                    flush_later_system(&mut messages, &mut later);
                }
                match messages.last_mut() {
                    // The system turn between two same-role turns is gone: join them.
                    Some(last) if last.role == role => {
                        let mut blocks = last.content.to_blocks();
                        blocks.extend(message.content.to_blocks());
                        last.content = a::Content::Blocks(blocks);
                    }
                    _ => messages.push(message),
                }
            }
        }
    }
    flush_later_system(&mut messages, &mut later);
    req.messages = messages;
    let leading: Vec<String> = leading.into_iter().filter(|t| !t.is_empty()).collect();
    if !leading.is_empty() {
        let mut blocks = req.system.as_ref().map(a::Content::to_blocks).unwrap_or_default();
        blocks.extend(leading.into_iter().map(a::ContentBlock::text));
        req.system = Some(a::Content::Blocks(blocks));
    }
    true
}

/// Tells the model the system texts that arrived mid-conversation, as a
/// text block at the end of the current user turn (Anthropic has no
/// mid-conversation system turn in its public API, and `tool_result` blocks
/// must open a user turn, so the text goes after them). With an assistant
/// turn last, it becomes a user turn of its own.
fn flush_later_system(messages: &mut Vec<a::Message>, later: &mut Vec<String>) {
    later.retain(|text| !text.is_empty());
    if later.is_empty() {
        return;
    }
    let text = format!("<system>\n{}\n</system>", later.join(SYSTEM_JOINER));
    later.clear();
    push_merged(
        messages,
        a::Role::User,
        Some(a::Content::Blocks(vec![a::ContentBlock::text(text)])),
    );
}

/// Whether the client asked for spoken output (`modalities` with `audio`),
/// which no Claude model produces.
fn wants_audio(req: &o::ChatRequest) -> bool {
    req.extra.get("audio").is_some_and(|a| !a.is_null())
        || req
            .extra
            .get("modalities")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().any(|m| m == "audio"))
}

/// OpenAI `response_format` as an instruction in the system prompt: the
/// Messages API enforces JSON output only through a beta that Bedrock and
/// Vertex do not all take, while every Claude model follows the instruction.
fn response_format_rule(req: &o::ChatRequest) -> Option<String> {
    let format = req.extra.get("response_format")?;
    match block_type(format) {
        "json_object" => Some("Respond with a single JSON object and nothing else.".to_owned()),
        "json_schema" => {
            let spec = format.get("json_schema").unwrap_or(&Value::Null);
            let schema = spec.get("schema").cloned().unwrap_or_else(|| json!({}));
            Some(format!(
                "Respond with a single JSON value and nothing else. It must match this JSON Schema:\n{schema}"
            ))
        }
        _ => None,
    }
}

/// Appends `content` as a `role` turn, merging it into the previous turn when
/// that has the same role: Anthropic wants roles to alternate, OpenAI
/// conversations often do not (tool messages, then a user message).
fn push_merged(messages: &mut Vec<a::Message>, role: a::Role, content: Option<a::Content>) {
    let Some(content) = content else { return };
    match messages.last_mut() {
        Some(last) if last.role == role => {
            let mut blocks = last.content.to_blocks();
            blocks.extend(content.to_blocks());
            last.content = a::Content::Blocks(blocks);
        }
        _ => messages.push(a::Message::new(role, content)),
    }
}

/// The non-empty texts of a system, developer or tool message.
fn content_texts(content: Option<&o::MessageContent>) -> Vec<String> {
    match content {
        None => Vec::new(),
        Some(o::MessageContent::Text(text)) => vec![text.clone()],
        Some(o::MessageContent::Parts(parts)) => parts
            .iter()
            .filter_map(|part| match part {
                o::ContentPart::Text { text } => Some(text.clone()),
                _ => None,
            })
            .collect(),
    }
    .into_iter()
    .filter(|text| !text.is_empty())
    .collect()
}

/// Empty text is skipped: Anthropic rejects empty text blocks.
fn user_to_anthropic(content: Option<&o::MessageContent>) -> Result<Option<a::Content>, TranslateError> {
    let parts = match content {
        None => return Ok(None),
        Some(o::MessageContent::Text(text)) if text.is_empty() => return Ok(None),
        Some(o::MessageContent::Text(text)) => return Ok(Some(a::Content::Text(text.clone()))),
        Some(o::MessageContent::Parts(parts)) => parts,
    };
    let mut blocks = Vec::new();
    for part in parts {
        match part {
            o::ContentPart::Text { text } | o::ContentPart::Refusal { refusal: text } => {
                if !text.is_empty() {
                    blocks.push(a::ContentBlock::text(text))
                }
            }
            o::ContentPart::ImageUrl { image_url } => {
                blocks.push(a::ContentBlock::image(image_to_anthropic(&image_url.url)?))
            }
            o::ContentPart::Other(value) if block_type(value) == "file" => {
                blocks.push(file_to_anthropic(value)?)
            }
            o::ContentPart::Other(value) => {
                return Err(TranslateError::Unsupported {
                    feature: format!("a {} content part", block_type(value)),
                    target: ANTHROPIC_API,
                })
            }
        }
    }
    Ok((!blocks.is_empty()).then_some(a::Content::Blocks(blocks)))
}

/// An OpenAI `file` part with inline bytes (`file_data`, a base64 data URL)
/// becomes a `document` block; a `file_id` names a file stored at OpenAI,
/// which Anthropic cannot read.
fn file_to_anthropic(value: &Value) -> Result<a::ContentBlock, TranslateError> {
    let file = value.get("file").unwrap_or(&Value::Null);
    let Some(data_url) = file.get("file_data").and_then(Value::as_str) else {
        return Err(TranslateError::Unsupported {
            feature: "a file part stored at OpenAI (file_id)".into(),
            target: ANTHROPIC_API,
        });
    };
    let (media_type, data) = match image_to_anthropic(data_url)? {
        a::ImageSource::Base64 { media_type, data } => (media_type, data),
        _ => ("application/pdf".to_owned(), data_url.to_owned()),
    };
    let mut block = json!({
        "type": "document",
        "source": {"type": "base64", "media_type": media_type, "data": data}
    });
    if let Some(name) = file.get("filename").and_then(Value::as_str) {
        block["title"] = Value::String(name.to_owned());
    }
    Ok(a::ContentBlock::Other(block))
}

/// A `data:<media type>;base64,<data>` URL becomes a base64 source, anything
/// else a URL source (Anthropic fetches it).
fn image_to_anthropic(url: &str) -> Result<a::ImageSource, TranslateError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(a::ImageSource::Url { url: url.to_owned() });
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| TranslateError::Invalid("an image data URL without data".into()))?;
    let media_type = meta
        .strip_suffix(";base64")
        .ok_or_else(|| TranslateError::Unsupported {
            feature: "an image data URL that is not base64".into(),
            target: ANTHROPIC_API,
        })?;
    Ok(a::ImageSource::Base64 {
        media_type: media_type.to_owned(),
        data: data.to_owned(),
    })
}

/// A lone string stays a string (the common form); otherwise text blocks
/// then tool calls. Calls whose arguments are not a JSON object are kept, see
/// [`parse_tool_arguments`].
fn assistant_to_anthropic(message: &o::ChatMessage) -> Option<a::Content> {
    let calls = message.tool_calls.as_deref().unwrap_or_default();
    let texts = content_texts(message.content.as_ref());
    if calls.is_empty() {
        if let Some(o::MessageContent::Text(text)) = &message.content {
            return (!text.is_empty()).then(|| a::Content::Text(text.clone()));
        }
    }
    let mut blocks: Vec<a::ContentBlock> = texts.into_iter().map(a::ContentBlock::text).collect();
    blocks.extend(calls.iter().map(|call| {
        a::ContentBlock::tool_use(
            anthropic_tool_id(&call.id).unwrap_or_default(),
            call.function.name.clone(),
            parse_tool_arguments(&call.function.arguments),
        )
    }));
    (!blocks.is_empty()).then_some(a::Content::Blocks(blocks))
}

/// A string stays a string (even empty: a tool may return nothing), text
/// parts become text blocks; other parts are not allowed in tool messages.
fn tool_content_to_anthropic(content: Option<&o::MessageContent>) -> a::Content {
    match content {
        None => a::Content::Text(String::new()),
        Some(o::MessageContent::Text(text)) => a::Content::Text(text.clone()),
        Some(content @ o::MessageContent::Parts(_)) => {
            let mut texts = content_texts(Some(content));
            match texts.len() {
                0 => a::Content::Text(String::new()),
                1 => a::Content::Text(texts.remove(0)),
                _ => a::Content::Blocks(texts.into_iter().map(a::ContentBlock::text).collect()),
            }
        }
    }
}

/// Function tools only; `custom` (free-form) tools have no Anthropic form.
fn tool_to_anthropic(tool: &o::ToolDef) -> Option<a::Tool> {
    if tool.kind != o::FUNCTION_TYPE {
        return None;
    }
    let function = tool.function.as_ref()?;
    Some(a::Tool {
        name: function.name.clone(),
        kind: None,
        description: function.description.clone(),
        input_schema: Some(function.parameters.clone().unwrap_or_else(empty_schema)),
        extra: a::Extra::new(),
    })
}

fn tool_choice_to_anthropic(
    choice: Option<&o::ToolChoice>,
    parallel_tool_calls: Option<bool>,
) -> Option<a::ToolChoice> {
    let disable_parallel_tool_use = (parallel_tool_calls == Some(false)).then_some(true);
    let auto = a::ToolChoice::Auto {
        disable_parallel_tool_use,
    };
    Some(match choice {
        None if disable_parallel_tool_use.is_none() => return None,
        None | Some(o::ToolChoice::Mode(o::ToolChoiceMode::Auto)) | Some(o::ToolChoice::Other(_)) => auto,
        Some(o::ToolChoice::Mode(o::ToolChoiceMode::None)) => a::ToolChoice::None,
        Some(o::ToolChoice::Mode(o::ToolChoiceMode::Required)) => a::ToolChoice::Any {
            disable_parallel_tool_use,
        },
        Some(o::ToolChoice::Named(named)) => a::ToolChoice::Tool {
            name: named.function.name.clone(),
            disable_parallel_tool_use,
        },
    })
}
