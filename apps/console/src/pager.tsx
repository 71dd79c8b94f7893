import { type ReactNode, useState } from 'react';

/** Cursor pages: the cursors of the pages visited so far, so "Previous page" needs no cursor from the server. */
export interface CursorPages {
  cursor: string | undefined;
  canGoBack: boolean;
  back: () => void;
  forward: (nextCursor: string) => void;
  reset: () => void;
}

export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    canGoBack: cursors.length > 1,
    back: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    forward: (nextCursor) => setCursors((c) => [...c, nextCursor]),
    reset: () => setCursors([undefined]),
  };
}

/** Previous / next buttons of a paginated list (and any extra buttons beside them). */
export function Pager({
  pages,
  nextCursor,
  children,
}: {
  pages: CursorPages;
  nextCursor: string | null | undefined;
  children?: ReactNode;
}): React.JSX.Element {
  return (
    <div className="pager">
      <button type="button" disabled={!pages.canGoBack} onClick={pages.back}>
        Previous page
      </button>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pages.forward(nextCursor)}>
        Next page
      </button>
      {children}
    </div>
  );
}
