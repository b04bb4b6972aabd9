// The shell: sign-in gate, navigation, and the hash routes.
//   #/runs                 runs list (?experiment=&status=)
//   #/runs/<id>            run page: header + charts
//   #/runs/<id>/rollouts   run page: rollout viewer
//   #/compare?runs=a,b     metric overlays
//   #/studies              studies list (?experiment=)
//   #/studies/<id>         study page: curves per arm, summary, runs (?metric=&at=best)
//   #/benchmarks           paper-style table
//   #/benchmarks/<id>      one benchmark run, item by item
import { useEffect, useMemo, useState } from "preact/hooks";
import { SessionContext, type Session } from "./lib/api.js";
import { createClient, IcrlApiError, ViewerDocument, type ViewerQuery } from "./lib/sdk.js";
import { storedKey, storeKey, takeKeyFromUrl } from "./lib/session.js";
import { href, useRoute, type Route } from "./lib/router.js";
import { Login } from "./pages/login.js";
import { RunsList } from "./pages/runs-list.js";
import { RunPage } from "./pages/run-page.js";
import { BenchmarksPage } from "./pages/benchmarks.js";
import { BenchmarkDetail } from "./pages/benchmark-detail.js";
import { ComparePage } from "./pages/compare.js";
import { StudiesList } from "./pages/studies-list.js";
import { StudyPage } from "./pages/study-page.js";

function Page({ route }: { route: Route }) {
  const [section, id, sub] = route.parts;
  if (section === "runs" && id) return <RunPage key={id} runId={id} tab={sub === "rollouts" ? "rollouts" : "charts"} />;
  if (section === "benchmarks" && id) return <BenchmarkDetail key={id} id={id} />;
  if (section === "benchmarks") return <BenchmarksPage />;
  if (section === "compare") return <ComparePage route={route} />;
  if (section === "studies" && id) return <StudyPage key={id} studyId={id} route={route} />;
  if (section === "studies") return <StudiesList route={route} />;
  return <RunsList route={route} />;
}

export function App() {
  const [key, setKey] = useState<string | null>(() => takeKeyFromUrl() ?? storedKey());
  const [loginMessage, setLoginMessage] = useState<string | null>(null);
  const [viewer, setViewer] = useState<ViewerQuery["viewer"] | null>(null);
  const route = useRoute();

  useEffect(() => storeKey(key), [key]);

  const session = useMemo<Session | null>(() => {
    if (!key) return null;
    return {
      client: createClient({ url: window.location.origin, token: key }),
      signOut: (reason) => {
        setLoginMessage(reason ?? null);
        setKey(null);
      },
    };
  }, [key]);

  useEffect(() => {
    if (!session) return;
    session.client.query(ViewerDocument, {}).then(
      (d) => setViewer(d.viewer),
      (err) => {
        // Only a rejected key signs out; a network hiccup leaves the pages to show their errors.
        if (err instanceof IcrlApiError && err.code === "UNAUTHENTICATED")
          session.signOut("The server did not accept the stored API key; sign in again.");
      },
    );
    return () => void session.client.close();
  }, [session]);

  if (!session) {
    return (
      <Login
        message={loginMessage}
        onSignedIn={(k) => {
          setLoginMessage(null);
          setKey(k);
        }}
      />
    );
  }

  const section = route.parts[0] ?? "runs";
  return (
    <SessionContext.Provider value={session}>
      <nav class="topbar">
        <a class="brand" href={href("/runs")}>
          ICRL Lab
        </a>
        <a class={section === "runs" ? "active" : ""} href={href("/runs")}>
          Runs
        </a>
        <a class={section === "studies" ? "active" : ""} href={href("/studies")}>
          Studies
        </a>
        <a class={section === "compare" ? "active" : ""} href={href("/compare")}>
          Compare
        </a>
        <a class={section === "benchmarks" ? "active" : ""} href={href("/benchmarks")}>
          Benchmarks
        </a>
        <span class="spacer" />
        {viewer && <span class="muted">{viewer.role.toLowerCase()}</span>}
        <button type="button" class="link" onClick={() => session.signOut()}>
          Sign out
        </button>
      </nav>
      <main class="content">
        <Page route={route} />
      </main>
    </SessionContext.Provider>
  );
}
