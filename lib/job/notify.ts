/**
 * Exception notifications (v3 batch-set-smn, v5 `notify` / alarm_notify): a job that fails, or
 * whose replication lag exceeds the configured threshold (`delay_time`, for DR also `rpo_delay`,
 * in seconds), is reported to the job's destination:
 *
 * - `webhook_url` (an http(s) URL given as topic_urn): a JSON POST, 5 s timeout; a delivery
 *   failure is logged, never fails the job;
 * - always: a WARN line in the job log (detail type=log) and in the service log, which on AWS is
 *   CloudWatch Logs (a metric filter / subscription can forward it);
 * - an AWS SNS topic ARN (`arn:aws:sns:...`) as topic_urn: published to that topic (the task
 *   role may publish to the account's topics in its region); a publish failure is logged;
 * - an SMN topic URN (`urn:smn:...`) is Huawei's notification service and has no endpoint here:
 *   it is delivered as that log line, and the log line says so.
 *
 * A lag alarm repeats at most every LAG_REPEAT_MS per job and process (container), so a job that
 * stays behind does not flood the destination.
 */
import { logger } from '../logger.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from './job.js';

export type JobEvent = { kind: 'failed'; message: string } | { kind: 'lag'; lagMillis: number };

export interface NotifyDeps {
  jobs: Pick<JobStore, 'appendLog'>;
  /** HTTP POST of the webhook (tests pass a fake). */
  post?: (url: string, body: unknown) => Promise<number>;
  /** Publish to an SNS topic (tests pass a fake). */
  publish?: (topicArn: string, subject: string, message: string) => Promise<void>;
  now?: () => number;
}

export const LAG_REPEAT_MS = 10 * 60_000;
const lastLagAlarm = new Map<string, number>();

async function snsPublish(topicArn: string, subject: string, message: string): Promise<void> {
  const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns');
  const region = topicArn.split(':')[3];
  await new SNSClient({ region }).send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 99), Message: message }));
}

async function httpPost(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
  return res.status;
}

/** Lag threshold in ms, or undefined when no lag alarm is configured. */
export function lagThresholdMs(job: Job): number | undefined {
  const a = job.alarmNotify;
  const s = [a?.delay_time, job.jobType === 'cloudDataGuard' ? a?.rpo_delay : undefined].filter((x): x is number => typeof x === 'number' && x > 0);
  return s.length ? Math.min(...s) * 1000 : undefined;
}

/** Report `event` to the job's notification destination. True when a notification was sent. */
export async function notifyJobEvent(job: Job, event: JobEvent, deps: NotifyDeps): Promise<boolean> {
  const a = job.alarmNotify;
  if (!a || a.alarm_to_user === false) return false;
  const now = (deps.now ?? Date.now)();
  if (event.kind === 'lag') {
    const threshold = lagThresholdMs(job);
    if (threshold === undefined || event.lagMillis <= threshold) {
      lastLagAlarm.delete(job.id);
      return false;
    }
    if (now - (lastLagAlarm.get(job.id) ?? 0) < LAG_REPEAT_MS) return false;
    lastLagAlarm.set(job.id, now);
  }
  const text =
    event.kind === 'failed'
      ? `job ${job.name} (${job.id}) failed in status ${job.status}: ${event.message}`
      : `job ${job.name} (${job.id}) is ${Math.round(event.lagMillis / 1000)} s behind its source (threshold ${Math.round((lagThresholdMs(job) ?? 0) / 1000)} s)`;
  const payload = { event: event.kind === 'failed' ? 'job_failed' : 'replication_lag', job_id: job.id, job_name: job.name, project_id: job.projectId, status: job.status, message: text, lag_millis: event.kind === 'lag' ? event.lagMillis : undefined, time: new Date(now).toISOString() };
  let where = 'log';
  if (a.webhook_url) {
    try {
      const status = await (deps.post ?? httpPost)(a.webhook_url, payload);
      where = status < 300 ? `webhook (HTTP ${status})` : `log (the webhook answered HTTP ${status})`;
    } catch (error) {
      where = `log (the webhook failed: ${(error as Error).message})`;
    }
  } else if (a.topic_urn?.startsWith('arn:aws:sns:')) {
    try {
      await (deps.publish ?? snsPublish)(a.topic_urn, `DRS ${payload.event}: ${job.name}`, JSON.stringify(payload));
      where = `SNS topic ${a.topic_urn}`;
    } catch (error) {
      where = `log (publishing to SNS failed: ${(error as Error).message})`;
    }
  } else if (a.topic_urn) {
    where = `log (${a.topic_urn} is not an SNS topic ARN or a webhook URL)`;
  }
  logger.warn('job alarm', { jobId: job.id, projectId: job.projectId, event: payload.event, where, alarm: text });
  await deps.jobs.appendLog(job, 'WARN', `alarm (${where}): ${text}`).catch(() => undefined);
  return where.startsWith('webhook') || where.startsWith('SNS');
}
