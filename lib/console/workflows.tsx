/** Workflows: each definition's source and graph; start an execution with an input checked against its schema. */
import { useEffect, useState } from "preact/hooks";
import { api, appPath } from "./api.ts";
import { GraphView } from "./graph-view.tsx";
import { go, href } from "./route.ts";
import type { Json, WorkflowDefinition } from "./types.ts";
import { Card, checkJson, ErrorBox, JsonEditor } from "./ui.tsx";

/** A starting input for `schema`: its required properties, each a value of its type. */
export function exampleOf(schema: Json | undefined, depth = 0): Json {
  if (!schema || typeof schema !== "object" || Array.isArray(schema) || depth > 6) return {};
  if ("default" in schema && schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] ?? null;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return "";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "null":
      return null;
    default: {
      const out: { [key: string]: Json } = {};
      const props = (schema.properties ?? {}) as { [key: string]: Json };
      for (const name of Array.isArray(schema.required) ? schema.required : [])
        if (typeof name === "string") out[name] = exampleOf(props[name], depth + 1);
      return out;
    }
  }
}

export function WorkflowsPage(props: {
  app: string;
  workflows: readonly string[];
  selected?: string | undefined;
}) {
  const name = props.selected ?? props.workflows[0];
  return (
    <div class="page workflows">
      <div class="toolbar">
        <h2>Workflows</h2>
      </div>
      <div class="side">
        <ul class="menu" data-testid="workflow-list">
          {props.workflows.map((w) => (
            <li key={w}>
              <a class={w === name ? "active" : ""} href={href("workflows", w)}>
                {w}
              </a>
            </li>
          ))}
        </ul>
        {name && <WorkflowView key={name} app={props.app} name={name} />}
      </div>
    </div>
  );
}

function WorkflowView({ app, name }: { app: string; name: string }) {
  const [definition, setDefinition] = useState<WorkflowDefinition>();
  const [error, setError] = useState<unknown>();
  const [input, setInput] = useState("{}");
  const [id, setId] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<WorkflowDefinition>(appPath(app, `/workflows/${encodeURIComponent(name)}`)).then((d) => {
      setDefinition(d);
      setInput(JSON.stringify(exampleOf(d.inputSchema ?? undefined), null, 2));
    }, setError);
  }, [app, name]);
  if (!definition) return <ErrorBox error={error} />;
  const { problems, value } = checkJson(input, definition.inputSchema);
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const started = await api<{ id: string }>(
        appPath(app, `/workflows/${encodeURIComponent(name)}/executions`),
        {
          input: value,
          ...(id.trim() === "" ? {} : { id: id.trim() }),
        },
      );
      go(href("executions", started.id));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="detail" data-testid="workflow" data-name={name}>
      <h3>{definition.name}</h3>
      {definition.description && <p>{definition.description}</p>}
      <div class="split">
        <Card title="Start an execution" testid="start">
          <label>
            id (optional){" "}
            <input
              data-testid="start-id"
              value={id}
              placeholder="a new UUID"
              onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <p class="muted">
            input{definition.inputSchema ? ", checked against the workflow's input_schema" : ""}:
          </p>
          <JsonEditor
            value={input}
            onInput={setInput}
            schema={definition.inputSchema}
            rows={10}
            testid="start-input"
          />
          <button
            type="button"
            data-testid="start-button"
            disabled={busy || problems.length > 0}
            onClick={() => void start()}
          >
            Start {name}
          </button>
          <ErrorBox error={error} />
        </Card>
        <Card title="Graph" class="graph-card">
          {definition.graph ? (
            <GraphView graph={definition.graph} />
          ) : (
            <p class="muted">this API sends no graph</p>
          )}
        </Card>
      </div>
      <Card title="Source">
        <pre class="source" data-testid="source">
          {definition.source}
        </pre>
      </Card>
    </div>
  );
}
