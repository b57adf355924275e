/**
 * Checks a synthesised template against CloudFormation's own resource specification, as
 * the CDK publishes it (`@aws-cdk/aws-service-spec`): every resource type exists, every
 * property is known, of the right type (primitives, lists, maps, nested types, unions),
 * and every required property is present. Intrinsic functions (`Ref`, `Fn::*`) stand for
 * any type: their value is only known at deploy time.
 */
import { loadAwsServiceSpec } from "@aws-cdk/aws-service-spec";
import type { Property, PropertyType, Resource, SpecDatabase } from "@aws-cdk/service-spec-types";

let database: Promise<SpecDatabase> | undefined;
/** The specification, loaded once per process (about 2 s). */
export function specDatabase(): Promise<SpecDatabase> {
  database ??= loadAwsServiceSpec();
  return database;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `{ Ref: … }`, `{ "Fn::GetAtt": … }`, `{ "Fn::Join": … }`, …: a value resolved at deploy time. */
const isIntrinsic = (v: unknown): boolean => {
  if (!isRecord(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === "Ref" || (keys[0] ?? "").startsWith("Fn::"));
};

/** Problems of every resource of `template` (a synthesised template's JSON), as `LogicalId.Path: message`. */
export function checkTemplate(db: SpecDatabase, template: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const resources = (template.Resources ?? {}) as Record<
    string,
    { Type: string; Properties?: unknown }
  >;
  for (const [id, resource] of Object.entries(resources)) {
    if (
      resource.Type.startsWith("Custom::") ||
      resource.Type === "AWS::CloudFormation::CustomResource"
    )
      continue;
    const spec = db.lookup("resource", "cloudFormationType", "equals", resource.Type);
    const found = spec[0];
    if (!found) {
      problems.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    checkProperties(
      db,
      found,
      found.properties,
      resource.Properties ?? {},
      `${id}(${resource.Type})`,
      problems,
    );
  }
  return problems;
}

function checkProperties(
  db: SpecDatabase,
  resource: Resource,
  spec: Readonly<Record<string, Property>>,
  value: unknown,
  at: string,
  out: string[],
): void {
  if (isIntrinsic(value)) return;
  if (!isRecord(value)) {
    out.push(`${at}: expected an object, got ${JSON.stringify(value)}`);
    return;
  }
  for (const [name, property] of Object.entries(spec)) {
    if (property.required && !Object.hasOwn(value, name))
      out.push(`${at}: required ${name} is missing`);
  }
  for (const [name, child] of Object.entries(value)) {
    const property = spec[name];
    if (!property) {
      out.push(`${at}: unknown property ${name} (known: ${Object.keys(spec).sort().join(", ")})`);
      continue;
    }
    const types = [property.type, ...(property.previousTypes ?? [])];
    // A value of the current type or of a type the property had before (CloudFormation still takes those).
    const attempts = types.map((type) => {
      const found: string[] = [];
      checkValue(db, resource, type, child, `${at}.${name}`, found);
      return found;
    });
    if (!attempts.some((a) => a.length === 0)) out.push(...(attempts[0] ?? []));
  }
}

function checkValue(
  db: SpecDatabase,
  resource: Resource,
  type: PropertyType,
  value: unknown,
  at: string,
  out: string[],
): void {
  if (isIntrinsic(value)) return;
  const wrong = (expected: string) =>
    out.push(`${at}: expected ${expected}, got ${JSON.stringify(value)?.slice(0, 120)}`);
  switch (type.type) {
    case "string":
      if (typeof value !== "string") wrong("string");
      else if (type.allowedValues && !type.allowedValues.includes(value))
        wrong(`one of ${type.allowedValues.join(", ")}`);
      return;
    case "date-time":
      if (typeof value !== "string") wrong("date-time");
      return;
    case "number":
    case "integer":
      // CloudFormation reads "5" as 5; the CDK writes numbers, tokens become strings.
      if (
        typeof value !== "number" &&
        !(typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)))
      )
        wrong(type.type);
      else if (type.type === "integer" && !Number.isInteger(Number(value))) wrong("an integer");
      return;
    case "boolean":
      if (typeof value !== "boolean" && value !== "true" && value !== "false") wrong("boolean");
      return;
    case "json":
      return;
    case "null":
      if (value !== null) wrong("null");
      return;
    case "tag":
      if (!isRecord(value) || typeof value.Key !== "string" || !("Value" in value))
        wrong("a tag {Key, Value}");
      return;
    case "array":
      if (!Array.isArray(value)) {
        wrong("a list");
        return;
      }
      value.forEach((item, index) => {
        checkValue(db, resource, type.element, item, `${at}[${index}]`, out);
      });
      return;
    case "map":
      if (!isRecord(value)) {
        wrong("a map");
        return;
      }
      for (const [key, item] of Object.entries(value))
        checkValue(db, resource, type.element, item, `${at}.${key}`, out);
      return;
    case "ref": {
      const definition = db.get("typeDefinition", type.reference);
      checkProperties(db, resource, definition.properties, value, `${at}<${definition.name}>`, out);
      return;
    }
    case "union": {
      const attempts = type.types.map((branch) => {
        const found: string[] = [];
        checkValue(db, resource, branch, value, at, found);
        return found;
      });
      if (!attempts.some((a) => a.length === 0))
        out.push(
          `${at}: matches none of its ${type.types.length} types: ${attempts.map((a) => a[0]).join(" | ")}`,
        );
      return;
    }
    default: {
      const never: never = type;
      out.push(`${at}: unhandled type ${JSON.stringify(never)}`);
    }
  }
}
