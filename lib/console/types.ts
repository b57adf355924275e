/** The API's answers, as the console reads them (docs/openapi.yaml is the contract). */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Status = "running" | "succeeded" | "failed" | "cancelled";

export interface WorkflowError {
  readonly name: string;
  readonly message: string;
}

export interface Summary {
  readonly id: string;
  readonly workflow: string;
  readonly status: Status;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly error?: WorkflowError;
}

export interface Current {
  readonly thread: string;
  readonly state: string;
  readonly attempt?: number;
  /** `activity`, `wait`, `event:<name>` or `join`. */
  readonly waiting?: string;
  readonly enteredAt: string;
  readonly branches?: { total: number; started: number; succeeded: number; failed: number };
}

/** What an execution cost at AWS list prices (the redrive and cost contract). */
export interface Cost {
  readonly dynamodb?: { readonly writeUnits: number; readonly readUnits: number };
  readonly sqs?: { readonly requests: number };
  readonly s3?: { readonly requests: number };
  readonly lambda?: { readonly invocations: number; readonly gbSeconds: number };
  readonly usd?: number;
  readonly estimated?: boolean;
  /** More items than the API sums: the figures are of the first ones. */
  readonly partial?: boolean;
}

export interface Execution extends Omit<Summary, "error"> {
  readonly tenant: string;
  readonly definitionHash: string;
  readonly stateEnteredAt: string;
  readonly durationMs?: number;
  readonly transitions: number;
  readonly input: Json;
  readonly output: Json;
  readonly error: WorkflowError | null;
  readonly current: readonly Current[];
  readonly cost?: Cost;
  readonly redriveOf?: string;
  readonly redrives?: readonly string[];
}

export interface HistoryEvent {
  readonly type: string;
  readonly thread: string;
  readonly seq: number;
  readonly step: number;
  readonly at: string;
  readonly state?: string;
  readonly attempt?: number;
  readonly input?: Json;
  readonly output?: Json;
  readonly error?: WorkflowError;
  readonly detail?: { readonly [key: string]: Json };
  /** ActivityScheduled: the keys that attempt's activity received. */
  readonly keys?: { readonly idempotencyKey: string; readonly stepKey: string };
}

export interface GraphNode {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly parent?: string;
  readonly index?: number;
  readonly activity?: string;
  readonly pool?: string;
  readonly start?: boolean;
  readonly end?: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: "next" | "choice" | "default" | "catch";
  readonly label?: string;
}

export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface WorkflowDefinition {
  readonly name: string;
  readonly hash: string;
  readonly description?: string;
  readonly inputSchema: { [key: string]: Json } | null;
  readonly startAt: string;
  readonly graph?: Graph;
  readonly source: string;
  /** False for an older version (an execution's pinned one). */
  readonly current?: boolean;
}

export interface WorkflowItem {
  readonly name: string;
  readonly hash: string;
  readonly description?: string;
}

export interface WorkflowFigures {
  readonly name: string | null;
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly throughputPerSecond: number;
  readonly avgDurationMs: number | null;
  readonly percentiles: Record<string, number | null>;
}

export interface ActivityFigures {
  readonly name: string;
  readonly executions: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly avgDurationMs: number | null;
  readonly percentiles: Record<string, number | null>;
}
