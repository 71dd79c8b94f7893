import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { shortAddress } from './api';
import { AccessLogPage } from './pages/AccessLog';
import { ApiKeysPage } from './pages/ApiKeys';
import { DataPortabilityPage } from './pages/DataPortability';
import { FilesPage } from './pages/Files';
import { GrantsPage } from './pages/Grants';
import { MembersPage } from './pages/Members';
import { RequestsPage } from './pages/Requests';
import { ServerLayout } from './pages/ServerLayout';
import { ServersPage } from './pages/Servers';
import { SettingsPage } from './pages/Settings';
import { SignInPage } from './pages/SignIn';
import { Link, navigate, useLocation } from './router';
import { clearSession, owner, useSession } from './session';
import type { ServerTab } from './tabs';

// chart.js is loaded only when the usage page opens: it is not part of the first load.
const UsagePage = lazy(() => import('./pages/Usage'));

function Redirect({ to }: { to: string }): null {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App(): React.JSX.Element {
  const { path, href } = useLocation();
  const session = useSession();
  const queryClient = useQueryClient();

  useEffect(() => {
    const h1 = document.querySelector('h1');
    document.title = h1?.textContent ? `${h1.textContent} · Hearth` : 'Hearth console';
  });

  let page: React.JSX.Element;
  if (path === '/sign-in') {
    page = <SignInPage />;
  } else if (!session) {
    page = <Redirect to={`/sign-in?next=${encodeURIComponent(href)}`} />;
  } else if (path === '/' || path === '/servers') {
    page = path === '/' ? <Redirect to="/servers" /> : <ServersPage />;
  } else {
    const m = /^\/servers\/([^/]+)(?:\/([a-z]+))?\/?$/.exec(path);
    const tab = m?.[2] as ServerTab | undefined;
    if (!m) page = <NotFound />;
    else if (!tab) page = <Redirect to={`/servers/${m[1]}/files`} />;
    else {
      const serverId = decodeURIComponent(m[1]);
      const body = {
        files: <FilesPage serverId={serverId} />,
        grants: <GrantsPage serverId={serverId} />,
        requests: <RequestsPage serverId={serverId} />,
        members: <MembersPage serverId={serverId} />,
        keys: <ApiKeysPage serverId={serverId} />,
        log: <AccessLogPage serverId={serverId} />,
        usage: (
          <Suspense fallback={<p role="status">Loading charts…</p>}>
            <UsagePage serverId={serverId} />
          </Suspense>
        ),
        portability: <DataPortabilityPage serverId={serverId} />,
        settings: <SettingsPage serverId={serverId} />,
      }[tab];
      page = body ? (
        <ServerLayout serverId={serverId} tab={tab}>
          {body}
        </ServerLayout>
      ) : (
        <NotFound />
      );
    }
  }

  const signOut = async (): Promise<void> => {
    try {
      await owner().signOut();
    } catch {
      // The session may already be gone; signing out locally is what matters.
    }
    clearSession();
    queryClient.clear();
    navigate('/sign-in', { replace: true });
  };

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/servers" className="brand">
          Hearth
        </Link>
        {session && (
          <div className="who">
            <span title={session.address}>
              Signed in as <code>{shortAddress(session.address)}</code>
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main">{page}</main>
    </>
  );
}

function NotFound(): React.JSX.Element {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/servers">Back to your servers</Link>
      </p>
    </section>
  );
}
