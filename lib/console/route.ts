/** The console's pages live in the URL's hash (`#/executions/ID`), so any static server can serve it. */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** The path's segments, decoded: `#/executions/a%2Fb` → ["executions", "a/b"]. */
  readonly parts: readonly string[];
  readonly params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts: parts.length > 0 ? parts : ["runs"], params: new URLSearchParams(search) };
}

/** The link to a page: `href("executions", id)`, with optional query parameters. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const segments = parts.filter((p): p is string => typeof p === "string");
  const params = parts.find((p): p is Record<string, string | undefined> => typeof p !== "string");
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {}))
    if (value !== undefined && value !== "") search.set(key, value);
  const query = search.toString();
  return `#/${segments.map(encodeURIComponent).join("/")}${query ? `?${query}` : ""}`;
}

export const go = (link: string): void => {
  window.location.hash = link;
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
