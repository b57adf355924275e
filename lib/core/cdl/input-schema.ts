/**
 * A workflow's `input_schema`: a JSON Schema (draft 2020-12) checked when an
 * execution starts. @cfworker/json-schema interprets schemas without generating
 * code (no `new Function`, unlike Ajv), which keeps it safe in the pure core and
 * cheap at a Lambda's cold start.
 */
import { Validator } from "@cfworker/json-schema";
import type { JsonValue } from "../expr/index.ts";

/** One way the input does not match: where (a JSON pointer) and why. */
export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

const validators = new WeakMap<object, Validator>();

function validatorFor(schema: { readonly [key: string]: JsonValue }): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator(schema as never, "2020-12", false);
    validators.set(schema, validator);
  }
  return validator;
}

/**
 * The most problems one input reports: a 1 MiB array of wrong items would otherwise
 * answer hundreds of thousands (megabytes past the 6 MB a Lambda may return).
 */
export const MAX_INPUT_PROBLEMS = 100;

/**
 * Every problem of `input` against `schema` (at most {@link MAX_INPUT_PROBLEMS}, the last
 * then saying there are more); empty when it matches.
 */
export function checkInput(
  schema: { readonly [key: string]: JsonValue },
  input: JsonValue,
): InputProblem[] {
  const result = validatorFor(schema).validate(input);
  if (result.valid) return [];
  const seen = new Set<string>();
  const problems: InputProblem[] = [];
  for (const unit of result.errors) {
    // The validator also reports the enclosing keywords ("properties", "allOf"); keep the leaves.
    if (unit.keyword === "properties" || unit.keyword === "allOf" || unit.keyword === "items")
      continue;
    const path = unit.instanceLocation.replace(/^#/, "") || "/";
    const key = `${path} ${unit.error}`;
    if (seen.has(key)) continue;
    if (problems.length === MAX_INPUT_PROBLEMS - 1) {
      problems.push({
        path: "/",
        message: `${MAX_INPUT_PROBLEMS} problems or more; only the first ${MAX_INPUT_PROBLEMS - 1} are shown`,
      });
      break;
    }
    seen.add(key);
    problems.push({ path, message: unit.error });
  }
  return problems.length > 0
    ? problems
    : [{ path: "/", message: "the input does not match the workflow's input_schema" }];
}

/** Why a schema cannot be used, or undefined when it can. */
export function schemaProblem(schema: { readonly [key: string]: JsonValue }): string | undefined {
  try {
    validatorFor(schema).validate(null);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
