// The API key lives in localStorage. A `?key=` in the URL (as printed by the CLI) signs in once and
// is then removed from the address bar and history so it is not shared by copying the URL.
const STORAGE_KEY = "icrl.apiKey";

export function storedKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the key lasts for this page only.
  }
}

/** Reads `key` from the query string or from the hash's query part, and strips it from the URL. */
export function takeKeyFromUrl(): string | null {
  const url = new URL(window.location.href);
  let key = url.searchParams.get("key");
  if (key) url.searchParams.delete("key");
  const [hashPath, hashQuery] = url.hash.split("?", 2);
  if (hashQuery !== undefined) {
    const params = new URLSearchParams(hashQuery);
    const fromHash = params.get("key");
    if (fromHash) {
      key ??= fromHash;
      params.delete("key");
      const rest = params.toString();
      url.hash = rest ? `${hashPath}?${rest}` : hashPath;
    }
  }
  if (key) window.history.replaceState(null, "", url.toString());
  return key;
}
