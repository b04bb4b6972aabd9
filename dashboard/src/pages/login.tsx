// Sign-in with an API key (the same keys the CLI and SDK use). The key is checked against the
// server before it is stored.
import { useState } from "preact/hooks";
import { errorMessage } from "../lib/api.js";
import { createClient, ViewerDocument } from "../lib/sdk.js";

export function Login({ onSignedIn, message }: { onSignedIn(key: string): void; message?: string | null }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(message ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return;
    setBusy(true);
    const client = createClient({ url: window.location.origin, token: trimmed });
    try {
      await client.query(ViewerDocument, {});
      onSignedIn(trimmed);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
      await client.close();
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit}>
        <h1>ICRL Lab</h1>
        <p class="muted">Sign in with an API key (admin or member). `icrl` prints a link that signs you in directly.</p>
        <label>
          API key
          <input type="password" name="key" autoComplete="current-password" autoFocus value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
