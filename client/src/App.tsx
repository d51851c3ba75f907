import type { FileResult } from '@downloads/client';
import { estimateEtaSeconds, isEnded, jobActions, useDownloads, type TrackedJob, type UseDownloads } from '@downloads/client/react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { describeError } from './downloads/api';
import { formatBytes, formatDateTime, formatDuration, formatRelative, shortId } from './downloads/format';
import { connectionLabel, handoverFromUrl, pageOptions, transportLabel } from './downloads/page';
import { parseCallbackUrl, parseFileIds } from './downloads/validation';

const EXAMPLE_IDS = '70000, 70007, 70014, 70001';

/** From this many files on, only the rows in view are in the page (a 1000-file job would otherwise stall it). */
const VIRTUALIZE_FROM = 100;

export default function App() {
  const [options] = useState(pageOptions);
  const downloads = useDownloads(options);
  const { jobs, mode, transport, adopt } = downloads;
  const now = useClock(jobs);
  // A job handed over in the fragment is adopted with its token as the page opens (before the hub negotiates, which
  // may need that token); the fragment is then dropped, so a reload or a shared link does not carry the token on.
  useEffect(() => {
    const handover = handoverFromUrl(window.location.hash);
    if (!handover) return;
    adopt(handover.jobId, handover.accessToken);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }, [adopt]);

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <svg className="logo" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 3v12m0 0-5-5m5 5 5-5M4 19h16" />
          </svg>
          <h1>Downloads</h1>
        </div>
        <span className={`connection connection-${mode}`} data-testid="connection-transport" title="How updates reach this page">
          <span className="dot" aria-hidden="true" />
          {connectionLabel(mode, transport)}
        </span>
      </header>

      <main className="content">
        <StartForm start={downloads.start} />
        <section className="jobs" aria-label="Download jobs">
          {jobs.length === 0 ? (
            <p className="empty">No download jobs yet. Enter some file ids and press Start.</p>
          ) : (
            jobs.map((job) => <JobCard key={job.jobId} job={job} actions={downloads} now={now} />)
          )}
        </section>
      </main>
    </div>
  );
}

/** The time, ticking every second while a job runs (its ETA) and every half minute while links may expire. */
function useClock(jobs: readonly TrackedJob[]): number {
  const [now, setNow] = useState(() => Date.now());
  const tickMs = jobs.some((j) => j.status === 'processing') ? 1000 : jobs.some((j) => !!j.expiresAt) ? 30_000 : 0;
  useEffect(() => {
    if (!tickMs) return undefined;
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  return Math.max(now, Date.now());
}

function requestNotificationPermission(): void {
  // Browsers only ask from a user gesture: this runs in the Start button's click handler.
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  try {
    void Promise.resolve(Notification.requestPermission()).catch(() => undefined);
  } catch {
    // Older browsers: callback-only API, or not allowed here.
  }
}

// Not re-rendered by job updates (its `start` keeps its identity): its input may hold a thousand ids.
const StartForm = memo(function StartForm({ start }: { start: UseDownloads['start'] }) {
  const [fileIdsText, setFileIdsText] = useState(EXAMPLE_IDS);
  const [callbackText, setCallbackText] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    const ids = parseFileIds(fileIdsText);
    const callback = parseCallbackUrl(callbackText);
    const problems = [ids.ok ? null : ids.error, callback.ok ? null : callback.error].filter((e): e is string => !!e);
    if (!ids.ok || !callback.ok) {
      setErrors(problems);
      return;
    }
    setErrors([]);
    setSubmitting(true);
    try {
      await start(ids.value, { callbackUrl: callback.value });
    } catch (error) {
      setErrors(describeError(error, ids.value));
    } finally {
      setSubmitting(false);
    }
  }

  const invalid = errors.length > 0;
  return (
    <form className="start-form card" onSubmit={onSubmit} noValidate>
      <div className="field grow">
        <label htmlFor="file-ids">File ids</label>
        <input
          id="file-ids"
          data-testid="file-ids-input"
          type="text"
          inputMode="numeric"
          autoComplete="off"
          spellCheck={false}
          value={fileIdsText}
          onChange={(e) => setFileIdsText(e.target.value)}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? 'form-error' : 'file-ids-hint'}
          placeholder={EXAMPLE_IDS}
        />
        <small id="file-ids-hint">Comma or space separated, 10000–100000000, up to 1000.</small>
      </div>
      <div className="field grow">
        <label htmlFor="callback-url">
          Callback URL <span className="optional">(optional)</span>
        </label>
        <input
          id="callback-url"
          data-testid="callback-url-input"
          type="url"
          autoComplete="off"
          spellCheck={false}
          value={callbackText}
          onChange={(e) => setCallbackText(e.target.value)}
          placeholder="https://example.com/webhook"
        />
      </div>
      <div className="field submit">
        <button type="submit" className="primary" data-testid="start-button" disabled={submitting} onClick={requestNotificationPermission}>
          {submitting ? 'Starting…' : 'Start'}
        </button>
      </div>
      {invalid && (
        <div className="form-error" id="form-error" role="alert" data-testid="form-error">
          {errors.length === 1 ? (
            <p>{errors[0]}</p>
          ) : (
            <>
              <p>{errors[0]}</p>
              <ul>
                {errors.slice(1).map((e, i) => (
                  <li key={i}>{e}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </form>
  );
});

function etaText(job: TrackedJob, now: number): string {
  if (job.lost) return '—';
  switch (job.status) {
    case 'processing': {
      const seconds = estimateEtaSeconds(job, now);
      if (seconds === null) return 'estimating…';
      return seconds < 3 ? 'a few seconds' : `about ${formatDuration(seconds)}`;
    }
    case 'queued':
      return 'waiting to start';
    case 'paused':
      return 'paused';
    default:
      return 'done';
  }
}

/** What went wrong with a job, for people: it is gone, an action was refused, or it could not be loaded. */
function jobErrorText(job: TrackedJob): string | null {
  if (job.actionError) return describeError(job.actionError).join(' ');
  if (job.lost) return job.error?.message ?? 'This job no longer exists on the service.';
  if (job.error) return `Could not load the job: ${describeError(job.error).join(' ')}`;
  return null;
}

function JobCard({ job, actions, now }: { job: TrackedJob; actions: UseDownloads; now: number }) {
  const percent = Math.round(job.percent);
  const allowed = jobActions(job);
  const ended = isEnded(job);
  const error = jobErrorText(job);
  const statusText = job.lost ? 'not found' : job.status;
  const expires = job.expiresAt ? `${formatDateTime(job.expiresAt)} (${formatRelative(job.expiresAt, now)})` : '—';
  return (
    <article
      className={`job-card card status-${job.status}${job.lost ? ' lost' : ''}`}
      data-testid="job-card"
      data-job-id={job.jobId}
      data-status={job.status}
      aria-label={`Job ${shortId(job.jobId)}`}
    >
      <div className="job-head">
        <div className="job-title">
          <h2 title={job.jobId}>
            Job <code>{shortId(job.jobId)}</code>
          </h2>
          <span className={`badge badge-${job.lost ? 'lost' : job.status}`} data-testid="job-status">
            {statusText}
          </span>
        </div>
        <div className="job-actions">
          <button type="button" data-testid="pause-button" disabled={!allowed.canPause} onClick={() => void actions.pause(job.jobId)}>
            {job.busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
          <button type="button" data-testid="resume-button" disabled={!allowed.canResume} onClick={() => void actions.resume(job.jobId)}>
            {job.busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
          <button type="button" className="danger" data-testid="cancel-button" disabled={!allowed.canCancel} onClick={() => void actions.cancel(job.jobId)}>
            {job.busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
          </button>
          {job.archiveUrl && (
            <a className="button" data-testid="download-all-link" href={job.archiveUrl} download title="One ZIP of the completed files">
              Download all
            </a>
          )}
          {(allowed.canRetry || job.busy === 'retry') && (
            <button
              type="button"
              data-testid="retry-button"
              disabled={!allowed.canRetry}
              onClick={() => void actions.retry(job.jobId)}
              title="Start a new job of the failed files"
            >
              {job.busy === 'retry' ? 'Retrying…' : 'Retry failed'}
            </button>
          )}
          {ended && (
            <button type="button" data-testid="dismiss-button" onClick={() => actions.dismiss(job.jobId)}>
              Dismiss
            </button>
          )}
        </div>
      </div>

      <div
        className="progress"
        role="progressbar"
        aria-label="Job progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="job-progress"
      >
        <div className="progress-bar" style={{ width: `${percent}%` }} />
      </div>

      <dl className="job-meta">
        <div>
          <dt>Files</dt>
          <dd data-testid="job-counts">
            {job.completed} of {job.total} ready{job.failed ? `, ${job.failed} failed` : ''} · {percent}%
          </dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="job-eta">{etaText(job, now)}</dd>
        </div>
        <div>
          <dt>Updates</dt>
          <dd data-testid="job-transport">{ended && !job.transport ? '—' : transportLabel(job.transport ?? actions.transport)}</dd>
        </div>
        <div>
          <dt>Links expire</dt>
          <dd data-testid="job-expires">{expires}</dd>
        </div>
        {job.retryOf && (
          <div>
            <dt>Retry of</dt>
            <dd data-testid="job-retry-of" title={job.retryOf}>
              Job <code>{shortId(job.retryOf)}</code>
            </dd>
          </div>
        )}
        {job.webhook && (
          <div>
            <dt>Webhook</dt>
            <dd data-testid="job-webhook">
              {job.webhook.status}
              {job.webhook.attempts ? ` (${job.webhook.attempts} attempt${job.webhook.attempts === 1 ? '' : 's'})` : ''}
            </dd>
          </div>
        )}
      </dl>

      {error && (
        <p className="job-error" role="alert" data-testid="job-error">
          {error}
        </p>
      )}

      <FileTable job={job} />
    </article>
  );
}

function FileTable({ job }: { job: TrackedJob }) {
  if (!job.results.length) {
    return <p className="files-empty">{job.lost ? 'No file details.' : 'Loading files…'}</p>;
  }
  if (job.results.length < VIRTUALIZE_FROM) {
    return <FileTableFrame>{job.results.map((file) => <FileRow key={file.file_id} file={file} />)}</FileTableFrame>;
  }
  return <VirtualFileTable results={job.results} />;
}

function FileTableFrame({ children }: { children: ReactNode }) {
  return (
    <table className="files">
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Status</th>
          <th scope="col">Size</th>
          <th scope="col">Attempts</th>
          <th scope="col">Error</th>
          <th scope="col">
            <span className="sr-only">Download</span>
          </th>
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A long list scrolls in its own box, and only the rows in view (and a few around) are rendered. */
function VirtualFileTable({ results }: { results: FileResult[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: results.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 40,
    overscan: 12,
    getItemKey: (index) => results[index].file_id,
  });
  const items = virtualizer.getVirtualItems();
  const before = items.length ? items[0].start : 0;
  const after = items.length ? virtualizer.getTotalSize() - items[items.length - 1].end : 0;
  return (
    <div className="files-scroll" ref={scroller} data-testid="file-list" role="region" aria-label={`${results.length} files`} tabIndex={0}>
      <FileTableFrame>
        {before > 0 && <SpacerRow height={before} />}
        {items.map((item) => (
          <FileRow key={item.key} file={results[item.index]} index={item.index} measure={virtualizer.measureElement} />
        ))}
        {after > 0 && <SpacerRow height={after} />}
      </FileTableFrame>
    </div>
  );
}

function SpacerRow({ height }: { height: number }) {
  return (
    <tr className="spacer" aria-hidden="true" style={{ height }}>
      <td colSpan={6} />
    </tr>
  );
}

interface FileRowProps {
  file: FileResult;
  /** In a virtual list: the row's index, and the function that measures its height. */
  index?: number;
  measure?: (row: HTMLTableRowElement | null) => void;
}

// Rows re-render only when their own file changed: an event changes one file of a thousand.
const FileRow = memo(function FileRow({ file, index, measure }: FileRowProps) {
  const ready = file.status === 'completed' && !!file.download_url;
  return (
    <tr data-testid="file-row" data-file-id={file.file_id} data-status={file.status} data-index={index} ref={measure}>
      <td data-label="File">
        <code>{file.file_id}</code>
      </td>
      <td data-label="Status">
        <span className={`badge small badge-${file.status}`}>{file.status}</span>
      </td>
      <td data-label="Size">{formatBytes(file.size)}</td>
      <td data-label="Attempts">{file.attempts ?? '—'}</td>
      {file.error || file.error_code ? (
        <td data-label="Error" className="file-error" title={file.error_code ?? undefined}>
          {file.error || file.error_code}
        </td>
      ) : (
        <td data-label="Error" className="file-error none">
          <span className="muted">—</span>
        </td>
      )}
      <td data-label="Download" className="file-link">
        {ready ? (
          <a data-testid="download-link" href={file.download_url!} download title={file.sha256 ? `SHA-256 ${file.sha256}` : undefined}>
            Download
          </a>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
});
