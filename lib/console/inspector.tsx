/** The step inspector: each visit of the selected state, with its input, output, error and attempts. */
import type { RedriveTarget } from "./actions.tsx";
import type { ExecutionTrace } from "./history.ts";
import type { Graph } from "./types.ts";
import { Badge, duration, JsonView, time } from "./ui.tsx";

/** Visits shown for one state (a Map's iterator may have thousands). */
const MAX_VISITS = 20;

export function Inspector(props: {
  nodeId: string;
  graph: Graph;
  trace: ExecutionTrace;
  onRedrive: (target: RedriveTarget) => void;
}) {
  const node = props.graph.nodes.find((n) => n.id === props.nodeId);
  const visits = props.trace.visits.filter((v) => v.nodeId === props.nodeId);
  if (!node) return <p class="muted">no such state</p>;
  return (
    <div data-testid="inspector-body">
      <p>
        <strong>{node.type}</strong> {node.name}
        {node.activity && (
          <span class="muted">
            {" "}
            · activity <code>{node.activity}</code>
            {node.pool ? ` on the ${node.pool} worker pool` : ""}
          </span>
        )}
      </p>
      {visits.length === 0 && <p class="muted">not entered</p>}
      {visits.length > MAX_VISITS && (
        <p class="muted">
          {visits.length} visits (one per item or branch); the first {MAX_VISITS} are shown
        </p>
      )}
      {visits.slice(0, MAX_VISITS).map((v) => (
        <div class="visit" key={`${v.thread}${v.enteredAt}`}>
          <div class="visit-head">
            <Badge status={v.status} /> <code>{v.thread}</code> · entered {time(v.enteredAt)}
            {v.exitedAt !== undefined && ` · ${duration(v.exitedAt - v.enteredAt)}`}
            {v.keptFrom !== undefined && (
              <span data-testid="kept-from">
                {" "}
                · kept from <code>{v.keptFrom}</code> (not run again)
              </span>
            )}
            <button
              type="button"
              class="small"
              data-testid="redrive-here"
              onClick={() => props.onRedrive({ state: v.state, thread: v.thread })}
            >
              redrive from here
            </button>
          </div>
          {v.error && (
            <p class="error-text" data-testid="step-error">
              {v.error.name}: {v.error.message}
            </p>
          )}
          <details open={visits.length === 1}>
            <summary>input</summary>
            <JsonView value={v.input} label="input" />
          </details>
          <details open={visits.length === 1}>
            <summary>output</summary>
            <JsonView value={v.output} label="output" />
          </details>
          {v.attempts.length > 0 && (
            <table class="kv attempts">
              <thead>
                <tr>
                  <th>attempt</th>
                  <th>started</th>
                  <th>ran</th>
                  <th>outcome</th>
                  <th>cache</th>
                  <th>keys</th>
                </tr>
              </thead>
              <tbody>
                {v.attempts.map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>{time(a.scheduledAt)}</td>
                    <td>
                      {a.endedAt === undefined ? "running" : duration(a.endedAt - a.scheduledAt)}
                    </td>
                    <td>
                      {a.error
                        ? `${a.error.name}: ${a.error.message}`
                        : a.endedAt === undefined
                          ? ""
                          : "ok"}
                    </td>
                    <td data-testid="attempt-cache">{a.cache ?? "–"}</td>
                    <td class="keys">
                      {a.keys && (
                        <>
                          <div title="the same across this step's retries: hand it to a payment provider">
                            step <code data-testid="step-key">{a.keys.stepKey}</code>
                          </div>
                          <div title="this attempt's own key">
                            attempt <code>{a.keys.idempotencyKey}</code>
                          </div>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </div>
  );
}
