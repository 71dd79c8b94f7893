import { isHearthProblem } from '@hearth/sdk';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { navigate } from './router';
import { clearSession } from './session';
import './styles.css';

/** Any 401 (an expired or revoked session) ends the session and sends the page to sign-in, then back here. */
function onError(err: unknown): void {
  if (isHearthProblem(err) && err.status === 401 && window.location.pathname !== '/sign-in') {
    const back = window.location.pathname + window.location.search;
    clearSession();
    navigate(`/sign-in?expired=1&next=${encodeURIComponent(back)}`, { replace: true });
  }
}

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      retry: (count, err) => !(isHearthProblem(err) && err.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
