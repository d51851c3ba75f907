// Wire types of the download service (CONTRACT.md). All JSON is snake_case; enum values are lowercase.

export type JobStatusValue = 'queued' | 'processing' | 'paused' | 'completed' | 'failed' | 'cancelled';
export type FileStatusValue = 'pending' | 'processing' | 'completed' | 'failed' | 'skipped';
export type JobEventType = 'snapshot' | 'progress' | 'paused' | 'resumed' | 'completed' | 'failed' | 'cancelled';

/** One file of a job, in the order of the request's `file_ids`. */
export interface FileResult {
  file_id: number;
  status: FileStatusValue;
  download_url: string | null;
  size: number | null;
  sha256: string | null;
  attempts: number;
  error_code: string | null;
  error: string | null;
}

export interface JobProgress {
  completed: number;
  failed: number;
  total: number;
  /** 0..100, only grows. */
  percent: number;
  current_file: number | null;
}

export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
}

/** `GET /v1/download/status/{job_id}`, and the answer of cancel, pause and resume. */
export interface StatusDocument {
  job_id: string;
  status: JobStatusValue;
  /** The last recorded change this document reflects. */
  seq: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  progress: JobProgress;
  results: FileResult[];
  expires_at: string | null;
  webhook: WebhookState | null;
  /** A signed ZIP of all completed files once the job has ended (services that have archives). */
  archive_url?: string | null;
  /** The job whose failed files this job retries (services that have retry). */
  retry_of?: string | null;
}

/** One recorded change of a job: pushed over SignalR (`update`) and SSE, and the body of webhooks. */
export interface JobEvent {
  type: JobEventType;
  job_id: string;
  seq: number;
  status: JobStatusValue;
  completed: number;
  failed: number;
  total: number;
  current_file: number | null;
  progress_percent: number;
  /** The file result that changed, where one did. */
  file?: FileResult | null;
  /** The whole list: on `snapshot` and the terminal types. */
  results?: FileResult[] | null;
}

/** The `202 Accepted` answer of `POST /v1/download/initiate` (and of retry). Every URL is absolute. */
export interface InitiateResponse {
  job_id: string;
  status: JobStatusValue;
  total_files: number;
  websocket_url: string;
  hub_url: string;
  status_url: string;
  result_url: string;
  events_url: string;
  /** A secret scoped to this one job, accepted in place of the API key. */
  access_token: string;
  /** On a retry's answer: the job whose failed files this one retries. */
  retry_of?: string | null;
}

export interface ResultFile {
  file_id: number;
  download_url: string;
  size: number;
  sha256: string;
}

export interface FailedFile {
  file_id: number;
  error_code: string | null;
  error: string | null;
}

/** `GET /v1/download/result/{job_id}` once the job has ended (`200`). */
export interface ResultDocument {
  job_id: string;
  status: JobStatusValue;
  /** Completed files only, in `file_ids` order. */
  download_urls: string[];
  files: ResultFile[];
  failed: FailedFile[];
  expires_at: string | null;
  archive_url?: string | null;
  /** The job whose failed files this job retries, else null. */
  retry_of?: string | null;
}

/** `GET /v1/download/result/{job_id}` while the job runs (`202`). */
export interface PendingResultDocument {
  job_id: string;
  status: JobStatusValue;
  progress: JobProgress;
}

/** RFC 9457 problem details, as every error of the service is written. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  request_id?: string;
  errors?: Record<string, string[]>;
}

export const TERMINAL_STATUSES: readonly JobStatusValue[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: JobStatusValue): boolean {
  return TERMINAL_STATUSES.includes(status);
}
