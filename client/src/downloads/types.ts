// Wire types of the download service (see CONTRACT.md). All JSON is snake_case.

export type JobStatusValue = 'queued' | 'processing' | 'paused' | 'completed' | 'failed' | 'cancelled';
export type FileStatusValue = 'pending' | 'processing' | 'completed' | 'failed' | 'skipped';
export type JobEventType = 'snapshot' | 'progress' | 'paused' | 'resumed' | 'completed' | 'failed' | 'cancelled';

export interface FileResult {
  file_id: number;
  status: FileStatusValue;
  download_url?: string | null;
  size?: number | null;
  sha256?: string | null;
  attempts?: number | null;
  error_code?: string | null;
  error?: string | null;
}

export interface JobProgress {
  completed: number;
  failed: number;
  total: number;
  percent: number;
  current_file: number | null;
}

export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
}

/** `GET status_url` and the body of cancel / pause / resume answers. */
export interface StatusDocument {
  job_id: string;
  status: JobStatusValue;
  seq: number;
  created_at?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  progress: JobProgress;
  results: FileResult[];
  expires_at?: string | null;
  webhook?: WebhookState | null;
  /** One ZIP of the completed files, once the job has ended with one. */
  archive_url?: string | null;
  /** The job whose failed files this job retries. */
  retry_of?: string | null;
}

/** Pushed over SignalR as client method `update`. */
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
  file?: FileResult | null;
  results?: FileResult[] | null;
}

/** 202 answer of `POST /v1/download/initiate`. */
export interface InitiateResponse {
  job_id: string;
  status: JobStatusValue;
  total_files: number;
  websocket_url?: string;
  hub_url?: string;
  status_url: string;
  result_url?: string;
  events_url?: string;
  /** A secret scoped to this job; where the service requires API keys it opens the job's routes in their place. */
  access_token?: string;
  /** Set on the answer of `POST /v1/download/{job_id}/retry`. */
  retry_of?: string | null;
}

/** RFC 9457 problem details. */
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
