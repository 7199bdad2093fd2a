/** Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 calls in every Task. */
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
}
/**
 * The AWS SDK warns once per process that its releases after January 2027 need Node 22. The
 * deployed runtime is nodejs22.x; on Node 20 (the local runtime, tests) the notice is noise in
 * every log, so it is turned off there (the SDK's own switch).
 */
if (Number(process.versions.node.split('.')[0]) < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export {};
