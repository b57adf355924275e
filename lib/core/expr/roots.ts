import type { ContextRoot } from "./ast.ts";

/** The names an expression may start with. */
export const ROOT_NAMES: readonly string[] = Object.freeze([
  "$",
  "workflow",
  "execution",
  "state",
  "map",
]);

/** What a context field holds: `json` fields may be followed by a path, the others are scalars. */
export type FieldKind = "json" | "string" | "number";

/** The fields of each context root, and what they hold. */
export const ROOT_FIELDS: ReadonlyMap<ContextRoot, ReadonlyMap<string, FieldKind>> = new Map<
  ContextRoot,
  ReadonlyMap<string, FieldKind>
>([
  [
    "workflow",
    new Map<string, FieldKind>([
      ["input", "json"],
      ["id", "string"],
      ["name", "string"],
    ]),
  ],
  [
    "execution",
    new Map<string, FieldKind>([
      ["id", "string"],
      ["start_time", "string"],
    ]),
  ],
  [
    "state",
    new Map<string, FieldKind>([
      ["name", "string"],
      ["attempt", "number"],
    ]),
  ],
  [
    "map",
    new Map<string, FieldKind>([
      ["index", "number"],
      ["item", "json"],
    ]),
  ],
]);

/** Whether `name` is a context root (a root other than `$`). */
export function isContextRoot(name: string): name is ContextRoot {
  return ROOT_FIELDS.has(name as ContextRoot);
}

/** For a bare field name that belongs to exactly one root, the qualified name a user probably meant. */
export function qualifiedField(name: string): string | undefined {
  const owners = [...ROOT_FIELDS].filter(([, fields]) => fields.has(name));
  const owner = owners.length === 1 ? owners[0] : undefined;
  return owner === undefined ? undefined : `${owner[0]}.${name}`;
}
