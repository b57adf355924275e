/**
 * Page cursors: the store's cursor wrapped with the tenant and the request it
 * continues, so a cursor is no way into other data; a cursor the store refuses
 * (a StoreError `INVALID_CURSOR`) is the caller's mistake, a 400.
 */
import { StoreError } from "../core/ports.ts";
import { HttpError } from "./errors.ts";

/** Longer cursors are refused before decoding. */
export const MAX_CURSOR_CHARS = 4096;

const invalid = () =>
  new HttpError(
    "INVALID_CURSOR",
    "the cursor was not issued by this API for this request (pass the cursor of the previous page with the same filters)",
  );

/** The store's cursor, bound to `tenant` and `scope` (the request's filters). */
export function wrapCursor(
  tenant: string,
  scope: string,
  cursor: string | undefined,
): string | undefined {
  if (cursor === undefined) return undefined;
  return Buffer.from(JSON.stringify({ t: tenant, s: scope, c: cursor })).toString("base64url");
}

/** The store's cursor inside `raw`. @throws HttpError INVALID_CURSOR when it is not one for this tenant and scope. */
export function unwrapCursor(
  tenant: string,
  scope: string,
  raw: string | undefined,
): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length > MAX_CURSOR_CHARS) throw invalid();
  try {
    const value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as {
      t?: unknown;
      s?: unknown;
      c?: unknown;
    };
    if (value && value.t === tenant && value.s === scope && typeof value.c === "string")
      return value.c;
  } catch {
    // reported below
  }
  throw invalid();
}

/** Runs a paged read; the store's refusal of the cursor becomes INVALID_CURSOR. */
export async function withCursor<T>(
  cursor: string | undefined,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (cursor !== undefined && error instanceof StoreError && error.code === "INVALID_CURSOR")
      throw invalid();
    throw error;
  }
}
