/** Two small hand-drawn SVG charts: stacked bars and lines over time. */

export interface Series {
  readonly name: string;
  readonly className: string;
  readonly values: readonly (number | null)[];
}

const W = 560;
const H = 160;
const PAD = { left: 60, right: 8, top: 22, bottom: 22 };

const niceMax = (max: number) => {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
};

function Axes(props: { max: number; labels: readonly string[]; unit?: string }) {
  const innerH = H - PAD.top - PAD.bottom;
  const innerW = W - PAD.left - PAD.right;
  const every = Math.max(1, Math.ceil(props.labels.length / 6));
  return (
    <g class="axes">
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line
            x1={PAD.left}
            x2={W - PAD.right}
            y1={PAD.top + innerH * (1 - f)}
            y2={PAD.top + innerH * (1 - f)}
          />
          <text x={PAD.left - 4} y={PAD.top + innerH * (1 - f) + 4} text-anchor="end">
            {Math.round(props.max * f * 100) / 100}
            {props.unit ?? ""}
          </text>
        </g>
      ))}
      {props.labels.map((label, i) =>
        i % every === 0 ? (
          <text
            key={label + String(i)}
            x={PAD.left + (innerW * (i + 0.5)) / props.labels.length}
            y={H - 6}
            text-anchor="middle"
          >
            {label}
          </text>
        ) : null,
      )}
    </g>
  );
}

/** Stacked bars, one per label. */
export function BarChart(props: {
  labels: readonly string[];
  series: readonly Series[];
  testid?: string;
}) {
  const totals = props.labels.map((_, i) =>
    props.series.reduce((t, s) => t + (s.values[i] ?? 0), 0),
  );
  const max = niceMax(Math.max(0, ...totals));
  const innerH = H - PAD.top - PAD.bottom;
  const slot = (W - PAD.left - PAD.right) / Math.max(1, props.labels.length);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      data-testid={props.testid}
      role="img"
      aria-label={props.series.map((s) => s.name).join(", ")}
    >
      <Axes max={max} labels={props.labels} />
      {props.labels.map((label, i) => {
        let y = PAD.top + innerH;
        return (
          <g key={label + String(i)}>
            {props.series.map((s) => {
              const h = ((s.values[i] ?? 0) / max) * innerH;
              y -= h;
              return h > 0 ? (
                <rect
                  key={s.name}
                  class={s.className}
                  x={PAD.left + i * slot + slot * 0.15}
                  y={y}
                  width={slot * 0.7}
                  height={h}
                >
                  <title>
                    {label}: {s.values[i]} {s.name}
                  </title>
                </rect>
              ) : null;
            })}
          </g>
        );
      })}
      <Legend series={props.series} />
    </svg>
  );
}

/** Lines, one point per label; null leaves a gap. */
export function LineChart(props: {
  labels: readonly string[];
  series: readonly Series[];
  unit?: string;
  testid?: string;
}) {
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...all));
  const innerH = H - PAD.top - PAD.bottom;
  const slot = (W - PAD.left - PAD.right) / Math.max(1, props.labels.length);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      data-testid={props.testid}
      role="img"
      aria-label={props.series.map((s) => s.name).join(", ")}
    >
      <Axes
        max={max}
        labels={props.labels}
        {...(props.unit === undefined ? {} : { unit: props.unit })}
      />
      {props.series.map((s) => {
        const points = s.values
          .map((v, i) =>
            v === null
              ? null
              : `${PAD.left + slot * (i + 0.5)},${PAD.top + innerH * (1 - v / max)}`,
          )
          .filter((p): p is string => p !== null);
        return (
          <g key={s.name} class={s.className}>
            <polyline points={points.join(" ")} />
            {points.map((p) => {
              const [x, y] = p.split(",");
              return <circle key={p} cx={x} cy={y} r={2.5} />;
            })}
          </g>
        );
      })}
      <Legend series={props.series} />
    </svg>
  );
}

function Legend({ series }: { series: readonly Series[] }) {
  return (
    <g class="chart-legend">
      {series.map((s, i) => (
        <g key={s.name} class={s.className} transform={`translate(${PAD.left + i * 90}, 4)`}>
          <rect width={10} height={10} />
          <text x={14} y={9}>
            {s.name}
          </text>
        </g>
      ))}
    </g>
  );
}
