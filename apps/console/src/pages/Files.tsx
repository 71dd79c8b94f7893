import { type HearthFile } from '@hearth/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type DragEvent, useId, useRef, useState } from 'react';
import { formatBytes, formatTime, useServer } from '../api';
import {
  downloadServerFile,
  encryptFile,
  openClientFile,
  ownerKeyFor,
  saveBlob,
  uploadBody,
  type UploadProgress,
} from '../files';
import { describeError, owner, signingWallet } from '../session';
import { Pager, useCursorPages } from '../pager';
import { ErrorLine, type Notice, NoticeLine } from '../notices';

const PAGE = 20;
const PREVIEW_LIMIT = 256 * 1024;

export function FilesPage({ serverId }: { serverId: string }): React.JSX.Element {
  const queryClient = useQueryClient();
  const server = useServer(serverId);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const files = useQuery({
    queryKey: ['files', serverId, cursor],
    queryFn: () => owner().listFiles(serverId, { limit: PAGE, cursor }),
  });
  const [mode, setMode] = useState<'client' | 'server'>('client');
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [message, setMessage] = useState<Notice | null>(null);
  const [dragging, setDragging] = useState(false);
  const [preview, setPreview] = useState<{ file: HearthFile; text: string | null; blob: Blob } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const modeName = useId();

  const upload = useMutation({
    mutationFn: async (file: File) => {
      setMessage(null);
      if (!server.data) throw new Error('The server is still loading.');
      if (mode === 'client') {
        const wallet = await signingWallet();
        setProgress({ phase: 'encrypting', fraction: 0 });
        const key = await ownerKeyFor(wallet, server.data);
        const envelope = await encryptFile(server.data, key, file, setProgress);
        try {
          return await uploadBody(serverId, file.name, envelope.body, envelope.body.type, setProgress);
        } finally {
          await envelope.release();
        }
      }
      setProgress({ phase: 'uploading', fraction: 0 });
      return uploadBody(serverId, file.name, file, file.type || 'application/octet-stream', setProgress);
    },
    onSuccess: (file) => {
      setMessage({
        kind: 'ok',
        text: `Uploaded ${file.name} (${formatBytes(file.size)}, ${file.encryption === 'client' ? 'encrypted in this browser' : 'encrypted by the server'}).`,
      });
      pages.reset();
      void queryClient.invalidateQueries({ queryKey: ['files', serverId] });
    },
    onError: (err) => setMessage({ kind: 'error', text: `Upload failed: ${describeError(err)}` }),
    onSettled: () => setProgress(null),
  });

  const open = useMutation({
    mutationFn: async (file: HearthFile) => {
      let blob: Blob;
      if (file.encryption === 'client') {
        if (!server.data) throw new Error('The server is still loading.');
        const key = await ownerKeyFor(await signingWallet(), server.data);
        blob = await openClientFile(serverId, file, key);
      } else {
        blob = await downloadServerFile(serverId, file);
      }
      const text = blob.size <= PREVIEW_LIMIT ? await blob.text() : null;
      return { file, blob, text: text !== null && !text.includes('\u0000') ? text : null };
    },
    onSuccess: setPreview,
    onError: (err) => setMessage({ kind: 'error', text: `Could not open the file: ${describeError(err)}` }),
  });

  const remove = useMutation({
    mutationFn: (file: HearthFile) => owner().deleteFile(serverId, file.id),
    onSuccess: (_v, file) => {
      setConfirming(null);
      if (preview?.file.id === file.id) setPreview(null);
      setMessage({ kind: 'ok', text: `Deleted ${file.name}.` });
      void queryClient.invalidateQueries({ queryKey: ['files', serverId] });
    },
    onError: (err) => setMessage({ kind: 'error', text: describeError(err) }),
  });

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) upload.mutate(file);
  };

  return (
    <>
      <h1>Files</h1>
      <fieldset className="choice">
        <legend>Encryption</legend>
        <label>
          <input
            type="radio"
            name={modeName}
            checked={mode === 'client'}
            onChange={() => setMode('client')}
          />{' '}
          In this browser (recommended): the server stores ciphertext it can open only inside an isolated job;
          you read it back with a key your wallet derives.
        </label>
        <label>
          <input
            type="radio"
            name={modeName}
            checked={mode === 'server'}
            onChange={() => setMode('server')}
          />{' '}
          On the server: Hearth receives the file as it is and seals it on arrival, chunk by chunk.
        </label>
      </fieldset>
      <div
        className={`dropzone${dragging ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop a file here, or</p>
        <label className="button">
          Choose a file
          <input
            ref={inputRef}
            type="file"
            className="visually-hidden"
            disabled={upload.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) upload.mutate(file);
              e.target.value = '';
            }}
          />
        </label>
      </div>
      {progress && (
        <div className="progress" role="status">
          <label>
            {progress.phase === 'encrypting' ? 'Encrypting in your browser' : 'Uploading'}{' '}
            {Math.round(progress.fraction * 100)}%
            <progress max={1} value={progress.fraction} />
          </label>
        </div>
      )}
      <NoticeLine notice={message} />
      <ErrorLine error={files.error} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Files on this server</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Encryption</th>
              <th scope="col">Uploaded</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {files.data?.items.length === 0 && (
              <tr>
                <td colSpan={5}>No files yet.</td>
              </tr>
            )}
            {files.data?.items.map((f) => (
              <tr key={f.id}>
                <td>
                  {f.name}
                  <br />
                  <code className="muted">{f.id}</code>
                </td>
                <td>{formatBytes(f.size)}</td>
                <td>{f.encryption === 'client' ? 'In the browser' : 'On the server'}</td>
                <td>{formatTime(f.createdAt)}</td>
                <td className="actions">
                  <button type="button" onClick={() => open.mutate(f)} disabled={open.isPending}>
                    Open<span className="visually-hidden"> {f.name}</span>
                  </button>
                  {confirming === f.id ? (
                    <button type="button" className="danger" onClick={() => remove.mutate(f)}>
                      Confirm delete<span className="visually-hidden"> {f.name}</span>
                    </button>
                  ) : (
                    <button type="button" onClick={() => setConfirming(f.id)}>
                      Delete<span className="visually-hidden"> {f.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager pages={pages} nextCursor={files.data?.nextCursor} />
      {open.isPending && <p role="status">Opening… (your wallet may ask you to sign for your owner key)</p>}
      {preview && (
        <section className="preview" aria-labelledby="preview-title">
          <h2 id="preview-title">{preview.file.name}</h2>
          <p>
            {preview.file.encryption === 'client'
              ? 'Decrypted in this browser with your owner key.'
              : 'Decrypted by the server for you.'}{' '}
            {formatBytes(preview.blob.size)}.
          </p>
          {preview.text !== null ? (
            <pre tabIndex={0} data-testid="file-preview">
              {preview.text}
            </pre>
          ) : (
            <p>No preview for this file.</p>
          )}
          <button type="button" onClick={() => saveBlob(preview.blob, preview.file.name)}>
            Save to disk
          </button>{' '}
          <button type="button" onClick={() => setPreview(null)}>
            Close
          </button>
        </section>
      )}
    </>
  );
}
