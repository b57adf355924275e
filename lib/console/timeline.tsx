/** The timeline: one lane per thread (root, each branch, each Map item; big Maps summarised), each state's visit a bar of queue wait, run time, backoff and waits. */
import type { ExecutionTrace, Lane, Visit } from "./history.ts";
import { duration } from "./ui.tsx";

/** Bars shorter than this share of the timeline carry no label (their title still says it all). */
const MIN_LABEL_SHARE = 0.04;

const pct = (value: number, from: number, span: number) => `${((value - from) / span) * 100}%`;

function VisitBar(props: {
  visit: Visit;
  from: number;
  span: number;
  end: number;
  onSelect: (id: string) => void;
  selected: boolean;
}) {
  const { visit, from, span } = props;
  const end = visit.exitedAt ?? props.end;
  const retries = visit.attempts.length - 1;
  const run = visit.segments.filter((s) => s.kind === "run").reduce((t, s) => t + s.to - s.from, 0);
  const queue = visit.segments
    .filter((s) => s.kind === "queue")
    .reduce((t, s) => t + s.to - s.from, 0);
  return (
    <button
      type="button"
      class={`bar n-${visit.status} ${props.selected ? "selected" : ""}`}
      data-testid="bar"
      data-node={visit.nodeId}
      style={{
        left: pct(visit.enteredAt, from, span),
        width: `max(3px, ${pct(end, visit.enteredAt, span)})`,
      }}
      title={`${visit.state}: ${visit.status}, ${duration(end - visit.enteredAt)} (run ${duration(run)}, queue ${duration(queue)}${retries > 0 ? `, ${retries} retr${retries === 1 ? "y" : "ies"}` : ""})`}
      onClick={() => props.onSelect(visit.nodeId)}
    >
      {visit.segments.map((s) => (
        <span
          key={`${s.kind}${s.from}`}
          class={`seg k-${s.kind}`}
          style={{
            left: pct(s.from, visit.enteredAt, Math.max(1, end - visit.enteredAt)),
            width: pct(s.to, s.from, Math.max(1, end - visit.enteredAt)),
          }}
        />
      ))}
      {(end - visit.enteredAt) / span >= MIN_LABEL_SHARE && (
        <span class="bar-label">
          {visit.state}
          {retries > 0 ? ` ↻${retries}` : ""}
        </span>
      )}
    </button>
  );
}

function LaneRow(props: {
  lane: Lane;
  trace: ExecutionTrace;
  span: number;
  selected?: string;
  onSelect: (id: string) => void;
}) {
  const { lane, trace, span } = props;
  return (
    <div class={`lane ${lane.kind}`} data-testid="lane">
      <div
        class="lane-label"
        style={{ paddingLeft: `${lane.depth * 12 + 4}px` }}
        title={lane.label}
      >
        {lane.label}
      </div>
      <div class="lane-track">
        {lane.kind === "thread" ? (
          lane.visits.map((v) => (
            <VisitBar
              key={`${v.nodeId}${v.enteredAt}`}
              visit={v}
              from={trace.from}
              span={span}
              end={trace.to}
              selected={props.selected === v.nodeId}
              onSelect={props.onSelect}
            />
          ))
        ) : (
          <div
            class="bar summary"
            style={{
              left: pct(lane.from, trace.from, span),
              width: `max(3px, ${pct(lane.to, lane.from, span)})`,
            }}
          >
            <span class="bar-label">
              {lane.counts.succeeded} succeeded · {lane.counts.failed} failed ·{" "}
              {lane.counts.running} running
              {lane.counts.cancelled > 0 ? ` · ${lane.counts.cancelled} cancelled` : ""}
            </span>
          </div>
        )}
      </div>
    </div>
  );
}

export function Timeline(props: {
  trace: ExecutionTrace;
  selected?: string;
  onSelect: (id: string) => void;
}) {
  const { trace } = props;
  const span = Math.max(1, trace.to - trace.from);
  return (
    <div class="timeline" data-testid="timeline">
      <div class="lane axis">
        <div class="lane-label muted">thread</div>
        <div class="lane-track">
          {[0, 0.25, 0.5, 0.75, 1].map((f) => (
            <span key={f} class="tick" style={{ left: `${f * 100}%` }}>
              {duration(f * span)}
            </span>
          ))}
        </div>
      </div>
      {trace.lanes.map((lane) => (
        <LaneRow
          key={lane.kind === "thread" ? lane.thread : `${lane.join}…`}
          lane={lane}
          trace={trace}
          span={span}
          {...(props.selected === undefined ? {} : { selected: props.selected })}
          onSelect={props.onSelect}
        />
      ))}
      <div class="legend">
        <span class="seg k-queue" /> queue wait <span class="seg k-run" /> running{" "}
        <span class="seg k-backoff" /> retry backoff <span class="seg k-wait" /> waiting (timer,
        event, branches)
      </div>
    </div>
  );
}
