/**
 * A COPY relay between two PostgreSQL connections: `COPY (...) TO STDOUT` on one, `COPY ... FROM
 * STDIN` on the other, the source's CopyData messages written to the target's socket as they
 * arrive. Both directions frame data the same way (`d`, int32 length, payload), and COPY FROM
 * accepts any split of the stream into messages, so complete messages are forwarded byte for byte
 * in runs, as slices of the socket reads: no per-row parsing, copying or re-framing in Node (with
 * pg-copy-streams, taking each row's message apart and framing it again was the largest Node cost
 * of a PostgreSQL full load).
 *
 * The source side takes the connection's socket over as pg-copy-streams' copy-to does, and hands it
 * back (with any bytes after CopyDone, or from an ErrorResponse on) to pg, which then completes or
 * fails the query through the handle* methods below. The target side is an ordinary submittable
 * that waits for CopyInResponse and ends with CopyDone, or CopyFail to abort.
 */
import type pg from 'pg';

/** What pg's Connection offers that the relay uses (not in @types/pg). */
interface PgSocket extends NodeJS.EventEmitter {
  read(): Buffer | null;
  write(data: Buffer): boolean;
  pause(): void;
  resume(): void;
}
interface PgConnection {
  stream: PgSocket;
  query(text: string): void;
  sendCopyFail(msg: string): void;
}

const CODE = { copyData: 0x64, copyDone: 0x63, error: 0x45 } as const;
const COPY_DONE = Buffer.from([CODE.copyDone, 0, 0, 0, 4]);

const rowCountOf = (msg: { text?: string }) => Number(/COPY (\d+)/.exec(msg?.text ?? '')?.[1] ?? 0);

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // always awaited by the relay; never an unhandled rejection meanwhile
  return { promise, resolve, reject };
}

/** `COPY ... FROM STDIN` waiting for raw CopyData messages. */
class CopyIn {
  connection?: PgConnection;
  readonly ready = deferred<void>();
  readonly done = deferred<number>();
  private rows = 0;
  constructor(readonly text: string) {}
  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }
  /** pg's query_timeout hook. */
  callback(): void {}
  handleCopyInResponse(): void {
    this.ready.resolve();
  }
  handleCommandComplete(msg: { text?: string }): void {
    this.rows = rowCountOf(msg);
  }
  handleReadyForQuery(): void {
    this.done.resolve(this.rows);
  }
  handleError(e: unknown): void {
    this.ready.reject(e);
    this.done.reject(e);
  }
  write(messages: Buffer): boolean {
    return this.connection!.stream.write(messages);
  }
  end(): void {
    this.connection!.stream.write(COPY_DONE);
  }
  fail(reason: string): void {
    this.connection!.sendCopyFail(reason);
  }
}

/** `COPY ... TO STDOUT` whose CopyData messages go to `sink` as raw runs of whole messages. */
class CopyOut {
  connection?: PgConnection;
  readonly done = deferred<void>();
  private pgHandler?: (data: Buffer) => void;
  private partial?: Buffer;
  private waiting = false;
  private detached = false;
  private reading = false;
  constructor(
    readonly text: string,
    /** Takes a run of whole CopyData messages; a returned promise pauses reading until it settles. */
    private readonly sink: (messages: Buffer) => Promise<void> | void,
  ) {}

  submit(connection: PgConnection): void {
    this.connection = connection;
    const s = connection.stream;
    const listeners = s.listeners('data') as ((data: Buffer) => void)[];
    if (listeners.length !== 1) throw new Error(`expected one data listener on the connection, found ${listeners.length}`);
    this.pgHandler = listeners[0]!;
    s.removeListener('data', this.pgHandler);
    s.pause();
    s.on('readable', this.onReadable);
    connection.query(this.text);
  }
  callback(): void {}
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    this.done.resolve();
  }
  handleError(e: unknown): void {
    this.done.reject(e);
  }

  /** Stop taking data (the copy is abandoned; the caller drops the connection). */
  abandon(): void {
    if (this.detached) return;
    this.detached = true;
    this.connection!.stream.removeListener('readable', this.onReadable);
  }

  private readonly onReadable = () => void this.pump();

  private async pump(): Promise<void> {
    if (this.reading || this.waiting || this.detached) return;
    this.reading = true;
    try {
      let chunk: Buffer | null;
      while (!this.detached && !this.waiting && (chunk = this.connection!.stream.read()) !== null) await this.take(chunk);
    } catch (e) {
      this.abandon();
      this.done.reject(e);
    } finally {
      this.reading = false;
    }
  }

  private async forward(run: Buffer): Promise<void> {
    const paced = this.sink(run);
    if (paced) {
      this.waiting = true;
      try {
        await paced;
      } finally {
        this.waiting = false;
      }
    }
  }

  /** Give the socket back to pg with `rest` (CommandComplete and ReadyForQuery, or an ErrorResponse onwards). */
  private detach(rest: Buffer): void {
    this.detached = true;
    const s = this.connection!.stream;
    s.removeListener('readable', this.onReadable);
    s.on('data', this.pgHandler!);
    if (rest.length) this.pgHandler!(rest);
    process.nextTick(() => s.resume());
  }

  private async take(chunk: Buffer): Promise<void> {
    let buf = chunk;
    if (this.partial) {
      // Complete the message cut by the previous read first (at most one).
      const p = this.partial;
      const head = p.length >= 5 ? p : Buffer.concat([p, buf.subarray(0, 5 - p.length)]);
      if (head.length < 5) {
        this.partial = head;
        return;
      }
      const total = 1 + head.readUInt32BE(1);
      const need = total - p.length;
      if (buf.length < need) {
        this.partial = Buffer.concat([p, buf]);
        return;
      }
      const whole = Buffer.concat([p, buf.subarray(0, need)]);
      this.partial = undefined;
      buf = buf.subarray(need);
      if (whole[0] !== CODE.copyData) {
        if (this.control(whole, buf)) return;
      } else await this.forward(whole);
    }
    let at = 0;
    let runStart = 0;
    while (at + 5 <= buf.length) {
      const total = 1 + buf.readUInt32BE(at + 1);
      if (at + total > buf.length) break;
      const code = buf[at];
      if (code === CODE.copyData) {
        at += total;
        continue;
      }
      if (at > runStart) await this.forward(buf.subarray(runStart, at));
      if (this.control(buf.subarray(at, at + total), buf.subarray(at + total))) return;
      at += total;
      runStart = at;
    }
    if (at > runStart) await this.forward(buf.subarray(runStart, at));
    if (at < buf.length) this.partial = Buffer.from(buf.subarray(at));
  }

  /** A message other than CopyData; true when the copy is over (the socket went back to pg). */
  private control(message: Buffer, rest: Buffer): boolean {
    const code = message[0];
    if (code === CODE.copyDone) {
      this.detach(rest);
      return true;
    }
    if (code === CODE.error) {
      this.detach(Buffer.concat([message, rest]));
      return true;
    }
    return false; // CopyOutResponse, NoticeResponse, ParameterStatus, NotificationResponse
  }
}

/**
 * Run `copyOut` (a `COPY ... TO STDOUT`) on `src` into `copyIn` (a `COPY ... FROM STDIN` of the
 * same format) on `dst`. `onData(bytes)` may wait (pacing) or throw (stop). Resolves with the rows
 * the target took. On any failure the target's COPY is aborted (its transaction is the caller's to
 * roll back) and `src` is left mid-protocol: the caller must destroy it (`release(true)`).
 */
export async function relayCopy(src: pg.PoolClient, dst: pg.PoolClient, copyOut: string, copyIn: string, onData?: (bytes: number) => Promise<void> | void): Promise<{ rows: number; bytes: number }> {
  const into = new CopyIn(copyIn);
  (dst as unknown as { query(q: unknown): void }).query(into);
  await into.ready.promise;
  let targetFailed = false;
  into.done.promise.catch(() => (targetFailed = true));
  let bytes = 0;
  const from = new CopyOut(copyOut, (messages) => {
    if (targetFailed) throw new Error('the target stopped the COPY'); // its error is the one reported
    bytes += messages.length;
    const room = into.write(messages);
    const paced = onData?.(messages.length);
    if (room && !paced) return;
    const drained = room ? undefined : new Promise<void>((r) => into.connection!.stream.once('drain', r));
    // A target that fails stops the wait (its error is reported below).
    return Promise.race([Promise.all([drained, paced]), into.done.promise]).then(() => undefined);
  });
  try {
    (src as unknown as { query(q: unknown): void }).query(from);
    await Promise.race([from.done.promise, into.done.promise.then(() => Promise.reject(new Error('the target ended the COPY early')))]);
  } catch (e) {
    from.abandon();
    const byTarget = targetFailed;
    if (!byTarget) into.fail(e instanceof Error ? e.message : String(e));
    const targetError = await into.done.promise.then(() => undefined, (t: unknown) => t);
    throw byTarget && targetError ? targetError : e;
  }
  into.end();
  return { rows: await into.done.promise, bytes };
}
