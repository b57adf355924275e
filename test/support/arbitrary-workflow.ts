/**
 * fast-check arbitraries for valid CDL workflows: chains of Tasks (some flaky
 * with retries), Pass, Choice (both arms rejoin), Wait, Parallel (ALL, or ANY /
 * AT_LEAST when `orderDependent`) and Map, nested to a small depth. Activities
 * are deterministic functions of their input, so an ALL-only workflow has one
 * right output whatever order its messages arrive in.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type { Outcome, Script } from "./simulate.ts";

type Raw = Record<string, unknown>;

interface Block {
  readonly kind: "task" | "flaky" | "pass" | "choice" | "wait" | "parallel" | "map";
  readonly wait: number;
  readonly threshold: number;
  readonly concurrency: number;
  readonly strategy: "ALL" | "ANY" | "AT_LEAST";
  readonly children: readonly (readonly Block[])[];
}

const leafKinds = ["task", "flaky", "pass", "choice", "wait"] as const;

function blockArb(depth: number, orderDependent: boolean): fc.Arbitrary<Block> {
  const kinds = depth > 0 ? ([...leafKinds, "parallel", "map"] as const) : leafKinds;
  return fc.record({
    kind: fc.constantFrom<Block["kind"]>(...kinds),
    wait: fc.integer({ min: 0, max: 3_000 }),
    threshold: fc.integer({ min: 0, max: 10 }),
    concurrency: fc.integer({ min: 0, max: 3 }),
    strategy: orderDependent
      ? fc.constantFrom<Block["strategy"]>("ALL", "ANY", "AT_LEAST")
      : fc.constant<Block["strategy"]>("ALL"),
    children:
      depth > 0
        ? fc.array(fc.array(blockArb(depth - 1, orderDependent), { minLength: 1, maxLength: 3 }), {
            minLength: 1,
            maxLength: 3,
          })
        : fc.constant([]),
  });
}

/** A random valid workflow as YAML text, with its `name`. */
export function workflowArb(
  options: { depth?: number; orderDependent?: boolean } = {},
): fc.Arbitrary<string> {
  const depth = options.depth ?? 2;
  return fc
    .array(blockArb(depth, options.orderDependent ?? false), { minLength: 1, maxLength: 5 })
    .map((blocks) => {
      let counter = 0;
      const fresh = (prefix: string) => `${prefix}${counter++}`;

      /** Turns blocks into a chain of states; the last one ends the flow. */
      const chain = (list: readonly Block[]): Raw[] => {
        const states: Raw[][] = [];
        const entries: string[] = [];
        for (const block of list) {
          const group = render(block);
          states.push(group.states);
          entries.push(group.entry);
        }
        states.forEach((group, i) => {
          const next = entries[i + 1];
          for (const state of group) {
            if (state.__exit !== true) continue;
            delete state.__exit;
            if (next === undefined) state.end = true;
            else state.next = next;
          }
        });
        return states.flat();
      };

      const render = (block: Block): { entry: string; states: Raw[] } => {
        switch (block.kind) {
          case "task": {
            const name = fresh("Work");
            return {
              entry: name,
              states: [
                {
                  name,
                  type: "Task",
                  resource: "urn:cascade:activity:work",
                  parameters: { tag: name, v: "{{ $.v }}" },
                  result: `$.r_${name}`,
                  __exit: true,
                },
              ],
            };
          }
          case "flaky": {
            const name = fresh("Flaky");
            return {
              entry: name,
              states: [
                {
                  name,
                  type: "Task",
                  resource: "urn:cascade:activity:flaky",
                  parameters: { tag: name },
                  retry: { errors: ["Flaky"], max_attempts: 3, interval: "100ms", jitter: "full" },
                  result: `$.r_${name}`,
                  __exit: true,
                },
              ],
            };
          }
          case "pass": {
            const name = fresh("Pass");
            return {
              entry: name,
              states: [{ name, type: "Pass", value: "{{ $.v + 1 }}", result: "$.v", __exit: true }],
            };
          }
          case "wait": {
            const name = fresh("Wait");
            return {
              entry: name,
              states: [{ name, type: "Wait", duration: `${block.wait}ms`, __exit: true }],
            };
          }
          case "choice": {
            const name = fresh("Choose");
            const high = fresh("High");
            const low = fresh("Low");
            return {
              entry: name,
              states: [
                {
                  name,
                  type: "Choice",
                  choices: [{ condition: `{{ $.v > ${block.threshold} }}`, next: high }],
                  default: low,
                },
                { name: high, type: "Pass", value: "high", result: `$.c_${name}`, __exit: true },
                { name: low, type: "Pass", value: "low", result: `$.c_${name}`, __exit: true },
              ],
            };
          }
          case "parallel": {
            const name = fresh("Fan");
            const branches = block.children.map((children) => {
              const branch = fresh("Branch");
              return { name: branch, states: chain(children), result: `$.b_${branch}` };
            });
            return {
              entry: name,
              states: [
                {
                  name,
                  type: "Parallel",
                  completion_strategy:
                    block.strategy === "AT_LEAST" && branches.length < 2 ? "ANY" : block.strategy,
                  ...(block.strategy === "AT_LEAST" && branches.length >= 2 ? { at_least: 2 } : {}),
                  branches,
                  result: `$.p_${name}`,
                  __exit: true,
                },
              ],
            };
          }
          case "map": {
            const name = fresh("Each");
            return {
              entry: name,
              states: [
                {
                  name,
                  type: "Map",
                  items: "{{ $.items }}",
                  // 0: no limit, which CDL says by leaving it out.
                  ...(block.concurrency > 0 ? { max_concurrency: block.concurrency } : {}),
                  iterator: chain(block.children[0] ?? []),
                  result: `$.m_${name}`,
                  __exit: true,
                },
              ],
            };
          }
          default: {
            const unreachable: never = block.kind;
            throw new Error(String(unreachable));
          }
        }
      };

      return stringify({ name: "Generated", states: chain(blocks) });
    });
}

/** An input the generated workflows accept: `v` drives Choices, `items` feeds Maps. */
export const inputArb: fc.Arbitrary<JsonValue> = fc.record({
  v: fc.integer({ min: 0, max: 10 }),
  items: fc.array(fc.record({ v: fc.integer({ min: 0, max: 10 }) }), { maxLength: 4 }),
});

function hash(value: JsonValue): number {
  const text = JSON.stringify(value);
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Deterministic activities: `work` answers a hash of its input after a latency drawn from it; `flaky` fails its first attempt. */
export const generatedScript: Script = {
  work: (input): Outcome => ({ ok: { h: hash(input) % 1000 }, after: 1 + (hash(input) % 50) }),
  flaky: (input, attempt): Outcome =>
    attempt === 1
      ? { error: { name: "Flaky", message: "first attempt fails" }, after: 5 }
      : { ok: { attempt, tag: (input as { tag?: JsonValue }).tag ?? null }, after: 5 },
};
