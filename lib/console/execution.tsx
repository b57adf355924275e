/** An execution: its graph coloured by what each state did, its timeline, a step inspector, raw history, cost and actions. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { Actions, type RedriveTarget } from "./actions.tsx";
import { api, appPath, query } from "./api.ts";
import { GraphView } from "./graph-view.tsx";
import { traceExecution } from "./history.ts";
import { Inspector } from "./inspector.tsx";
import { href } from "./route.ts";
import { Timeline } from "./timeline.tsx";
import type { Cost, Execution, HistoryEvent, Json, WorkflowDefinition } from "./types.ts";
import { Badge, Card, duration, ErrorBox, JsonView, time, usePoll } from "./ui.tsx";

/**
 * How often a running execution is read again: every 1.5 s per 1,000 history events it
 * has, so a long or wide one costs the API one history page per 1.5 s, not ten.
 */
const LIVE_EVERY_MS = 1_500;
const liveEvery = (data: { history: { events: readonly unknown[] } }): number =>
  LIVE_EVERY_MS * Math.max(1, Math.ceil(data.history.events.length / 1_000));
/** History read per execution view, at most (10 pages of 1,000). */
const MAX_HISTORY_PAGES = 10;

async function readHistory(app: string, id: string) {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const answer = await api<{ events: HistoryEvent[]; cursor?: string }>(
      appPath(
        app,
        `/executions/${encodeURIComponent(id)}/history${query({ limit: 1000, cursor })}`,
      ),
    );
    events.push(...answer.events);
    cursor = answer.cursor;
    if (!cursor) return { events, truncated: false };
  }
  return { events, truncated: true };
}

export function ExecutionPage({ app, id }: { app: string; id: string }) {
  const [running, setRunning] = useState(true);
  const { data, error, reload } = usePoll(
    async () => {
      const execution = await api<Execution>(appPath(app, `/executions/${encodeURIComponent(id)}`));
      const history = await readHistory(app, id);
      return { execution, history };
    },
    [app, id],
    liveEvery,
    running,
  );
  const execution = data?.execution;
  useEffect(() => {
    if (execution) setRunning(execution.status === "running");
  }, [execution?.status]);
  useEffect(() => setRunning(true), [id]);

  const [definition, setDefinition] = useState<WorkflowDefinition>();
  const [defError, setDefError] = useState<unknown>();
  useEffect(() => {
    if (!execution) return;
    // The version it was pinned to; the current one when that is no longer kept.
    const path = appPath(app, `/workflows/${encodeURIComponent(execution.workflow)}`);
    api<WorkflowDefinition>(`${path}?version=${execution.definitionHash}`)
      .catch(() => api<WorkflowDefinition>(path))
      .then(setDefinition, setDefError);
  }, [app, execution?.workflow, execution?.definitionHash]);

  const [selected, setSelected] = useState<string>();
  const [redriveFrom, setRedriveFrom] = useState<RedriveTarget>();
  const trace = useMemo(
    () =>
      execution && data && definition?.graph
        ? traceExecution(data.history.events, definition.graph, execution.status, Date.now())
        : undefined,
    [data, definition],
  );

  if (!execution)
    return (
      <div class="page">
        <ErrorBox error={error} />
        {!error && <p class="muted">loading {id}…</p>}
      </div>
    );
  const ended = execution.endedAt ? Date.parse(execution.endedAt) : Date.now();
  return (
    <div class="page execution" data-testid="execution" data-status={execution.status}>
      <div class="toolbar">
        <h2>
          <a href={href("runs")}>Runs</a> / {execution.id}
        </h2>
        <Badge status={execution.status} />
      </div>
      <dl class="facts">
        <dt>workflow</dt>
        <dd>
          <a href={href("workflows", execution.workflow)}>{execution.workflow}</a>
        </dd>
        <dt>started</dt>
        <dd>{time(execution.startedAt)}</dd>
        <dt>duration</dt>
        <dd>{duration(execution.durationMs ?? ended - Date.parse(execution.startedAt))}</dd>
        <dt>transitions</dt>
        <dd>{execution.transitions}</dd>
        <dt>definition</dt>
        <dd title={execution.definitionHash}>{execution.definitionHash.slice(0, 12)}</dd>
        {execution.redriveOf && (
          <>
            <dt>redrive of</dt>
            <dd>
              <a data-testid="redrive-of" href={href("executions", execution.redriveOf)}>
                {execution.redriveOf}
              </a>
            </dd>
          </>
        )}
        {execution.redrives && execution.redrives.length > 0 && (
          <>
            <dt>redrives</dt>
            <dd>
              {execution.redrives.map((r) => (
                <a key={r} href={href("executions", r)}>
                  {r}{" "}
                </a>
              ))}
            </dd>
          </>
        )}
        {execution.error && (
          <>
            <dt>error</dt>
            <dd class="error-text">
              {execution.error.name}: {execution.error.message}
            </dd>
          </>
        )}
      </dl>
      <ErrorBox error={error} />
      <Actions
        app={app}
        execution={execution}
        {...(trace ? { trace } : {})}
        from={redriveFrom}
        setFrom={setRedriveFrom}
        onDone={reload}
      />
      <div class="split">
        <Card title="Graph" class="graph-card">
          <ErrorBox error={defError} />
          {definition?.current === false && (
            <p class="muted" data-testid="older-version">
              this execution runs on an older version of the workflow (
              {definition.hash.slice(0, 12)}
              …): its graph is drawn
            </p>
          )}
          {definition && definition.hash !== execution.definitionHash && (
            <p class="muted">
              the version this execution ran on is no longer kept: this is the current definition's
              graph
            </p>
          )}
          {definition?.graph && trace && (
            <GraphView
              graph={definition.graph}
              nodes={trace.nodes}
              {...(selected === undefined ? {} : { selected })}
              onSelect={setSelected}
            />
          )}
          <div class="legend">
            {["succeeded", "failed", "caught", "running", "cancelled", "idle"].map((s) => (
              <span key={s} class={`swatch n-${s}`}>
                {s === "idle" ? "not entered" : s}
              </span>
            ))}
          </div>
        </Card>
        <Card
          title={selected ? `Step: ${selected}` : "Step inspector"}
          class="inspector"
          testid="inspector"
        >
          {selected && trace && definition?.graph ? (
            <Inspector
              nodeId={selected}
              graph={definition.graph}
              trace={trace}
              onRedrive={(state) => setRedriveFrom(state)}
            />
          ) : (
            <p class="muted">select a state in the graph or the timeline</p>
          )}
        </Card>
      </div>
      <Card title="Timeline">
        {data?.history.truncated && (
          <p class="muted">
            the history is long: the first {MAX_HISTORY_PAGES * 1000} events are shown
          </p>
        )}
        {trace && (
          <Timeline
            trace={trace}
            {...(selected === undefined ? {} : { selected })}
            onSelect={setSelected}
          />
        )}
      </Card>
      <div class="split">
        <Card title="Input">
          <JsonView value={execution.input} label="input" />
        </Card>
        <Card title={execution.status === "failed" ? "Error" : "Output"}>
          {execution.status === "failed" ? (
            <JsonView value={execution.error as unknown as Json} />
          ) : (
            <JsonView value={execution.output} label="output" />
          )}
        </Card>
        <Card title="Cost" testid="cost">
          <CostView cost={execution.cost} />
        </Card>
      </div>
      <details class="card raw">
        <summary>Raw history ({data?.history.events.length ?? 0} events)</summary>
        <pre class="json" data-testid="raw-history">
          {data?.history.events.map((e) => JSON.stringify(e)).join("\n")}
        </pre>
      </details>
    </div>
  );
}

function CostView({ cost }: { cost: Cost | undefined }) {
  if (!cost) return <p class="muted">this API reports no cost</p>;
  const usd = cost.usd ?? 0;
  return (
    <table class="kv">
      <tbody>
        <tr>
          <th>total</th>
          <td data-testid="cost-usd">
            ${usd < 0.01 ? usd.toFixed(6) : usd.toFixed(4)}
            {cost.estimated ? " (estimated)" : ""}
            {cost.partial ? " (of its first items only)" : ""}
          </td>
        </tr>
        <tr>
          <th>DynamoDB</th>
          <td>
            {cost.dynamodb?.writeUnits ?? 0} write units, {cost.dynamodb?.readUnits ?? 0} read units
          </td>
        </tr>
        <tr>
          <th>SQS</th>
          <td>{cost.sqs?.requests ?? 0} requests</td>
        </tr>
        <tr>
          <th>S3</th>
          <td>{cost.s3?.requests ?? 0} requests</td>
        </tr>
        <tr>
          <th>Lambda</th>
          <td>
            {cost.lambda?.invocations ?? 0} invocations, {(cost.lambda?.gbSeconds ?? 0).toFixed(3)}{" "}
            GB-s
          </td>
        </tr>
      </tbody>
    </table>
  );
}
