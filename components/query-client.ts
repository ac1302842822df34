import { QueryClient, isServer } from "@tanstack/react-query";

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      // Server-prefetched data is fresh at first paint; polling decides when to refetch.
      queries: { staleTime: 1000, refetchOnWindowFocus: true, retry: 1 },
    },
  });
}

let browserQueryClient: QueryClient | undefined;

/** One client per browser tab; a new one per server request. */
export function getQueryClient() {
  if (isServer) return makeQueryClient();
  return (browserQueryClient ??= makeQueryClient());
}

export async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

export const queryKeys = {
  activity: ["activity"] as const,
  configurationList: ["configurations", "status"] as const,
  configuration: (id: string) => ["configurations", id, "status"] as const,
  allConfigurations: ["configurations"] as const,
  uploads: ["uploads"] as const,
};
