import { describeError } from './session';

/** What an action came to: an alert when it failed, a status line when it worked. */
export interface Notice {
  kind: 'error' | 'ok';
  text: string;
}

export function NoticeLine({ notice }: { notice: Notice | null }): React.JSX.Element | null {
  if (!notice) return null;
  return (
    <p
      className={notice.kind === 'error' ? 'error' : 'ok'}
      role={notice.kind === 'error' ? 'alert' : 'status'}
    >
      {notice.text}
    </p>
  );
}

/** A query's failure, said as the API said it. */
export function ErrorLine({ error }: { error: unknown }): React.JSX.Element | null {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {describeError(error)}
    </p>
  );
}
